/* Running ALUA's on_stpg program (alua_hook.h). */
#include "core/alua_hook.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/log.h"

extern char **environ;

/* The child between fork() and exec: the daemon has other threads, so
 * only async-signal-safe calls (no malloc, no stdio) happen here. */
static void child_exec(char *const argv[], char *const envp[], int null_fd)
{
	dup2(null_fd, STDIN_FILENO);
	/* Sockets and backing files are the daemon's: a hook that keeps a
	 * connection open after the daemon closed it would leave the
	 * initiator hanging. */
	syscall(SYS_close_range, 3u, ~0u, 0u);
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* The daemon ignores SIGPIPE; a shell script should not. */
	signal(SIGPIPE, SIG_DFL);
	execve(argv[0], argv, envp);
	_exit(127);
}

/* The daemon's environment followed by @env; NULL on allocation failure. */
static char **merged_env(char *const env[])
{
	size_t n = 0, m = 0;
	char **out;

	while (environ && environ[n])
		n++;
	while (env[m])
		m++;
	out = calloc(n + m + 1, sizeof(*out));
	if (!out)
		return NULL;
	memcpy(out, environ, n * sizeof(*out));
	memcpy(out + n, env, m * sizeof(*out));
	return out;
}

int scst_alua_hook_run(char *const argv[], char *const env[])
{
	char **envp = merged_env(env);
	int null_fd, pidfd, status = 0;
	struct pollfd pfd;
	pid_t pid;

	if (!envp) {
		log_error("on_stpg %s: out of memory", argv[0]);
		return -1;
	}
	null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null_fd < 0) {
		log_error("on_stpg %s: /dev/null: %s", argv[0], strerror(errno));
		free(envp);
		return -1;
	}
	pid = fork();
	if (pid == 0)
		child_exec(argv, envp, null_fd);
	close(null_fd);
	free(envp);
	if (pid < 0) {
		log_error("on_stpg %s: fork: %s", argv[0], strerror(errno));
		return -1;
	}
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	pfd = (struct pollfd){ .fd = pidfd, .events = POLLIN };
	if (pidfd >= 0 && poll(&pfd, 1, SCST_ALUA_HOOK_TIMEOUT_MS) == 0) {
		log_error("on_stpg %s: still running after %d ms: killed", argv[0],
			  SCST_ALUA_HOOK_TIMEOUT_MS);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		close(pidfd);
		return -1;
	}
	if (pidfd >= 0)
		close(pidfd);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			log_error("on_stpg %s: waitpid: %s", argv[0], strerror(errno));
			return -1;
		}
	}
	if (WIFEXITED(status)) {
		if (WEXITSTATUS(status) == 127)
			log_error("on_stpg %s: could not be run (exit status 127)", argv[0]);
		return WEXITSTATUS(status);
	}
	log_error("on_stpg %s: ended by signal %d", argv[0], WTERMSIG(status));
	return -1;
}
