/* Running an external program and waiting for it, for ALUA's on_stpg hook
 * (alua.c): SCST hands an STPG to user space (scst_event) and lets the
 * script's exit status decide whether the command succeeds; uscst runs
 * the program itself. Called on a thread of alua.c's own only, never on a
 * reactor: it blocks until the program ends. */
#ifndef USCST_CORE_ALUA_HOOK_H
#define USCST_CORE_ALUA_HOOK_H

/* How long a hook may run before it is killed and the STPG fails. */
#define SCST_ALUA_HOOK_TIMEOUT_MS 30000

/* Runs @argv[0] with @argv (NULL-terminated) and the environment @env
 * (NULL-terminated "NAME=value" strings, added to the daemon's), stdin
 * from /dev/null, stdout and stderr the daemon's, no other descriptor of
 * the daemon. Returns its exit status (0..255), or -1 if it could not be
 * started, was killed by a signal, or ran past the timeout (then it is
 * killed); each failure is logged with the program's name. */
int scst_alua_hook_run(char *const argv[], char *const env[]);

#endif
