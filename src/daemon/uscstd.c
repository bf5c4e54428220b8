/* uscstd: the daemon. Wiring only: options, start-up order, shutdown. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "base/log.h"
#include "base/reactor.h"
#include "core/attr_desc.h"
#include "core/pr_store.h"
#include "core/scst.h"
#include "daemon/demo.h"
#include "daemon/service.h"
#include "handlers/vdisk/vdisk.h"
#include "mgmt/config.h"
#include "mgmt/metrics_http.h"
#include "mgmt/rpc_server.h"
#include "targets/iscsi/async.h"
#include "targets/iscsi/iscsi.h"

#define DEFAULT_STATE_DIR "/var/lib/uscst"
#define DEFAULT_PORTAL "127.0.0.1:3260"
#define MAX_PORTALS 16
#define SHUTDOWN_GRACE_SECONDS 30

struct options {
	const char *config;
	const char *portals[MAX_PORTALS];
	unsigned nportals;
	unsigned threads;
	const char *state_dir;
	unsigned max_connections;
	unsigned max_logins_per_address;
	bool list_attributes;
	const char *print_pr_state;
	const char *rpc_socket; /* NULL: the default, "none": no socket */
	const char *metrics;    /* --metrics ADDR:PORT, or NULL */
	bool syslog;
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: uscstd [OPTIONS]\n"
		"User-space SCSI target: serves devices to iSCSI initiators.\n"
		"\n"
		"  -c, --config FILE      load scst.conf-format FILE (handlers, devices,\n"
		"                         targets, LUNs); without it, serve the demo target\n"
		"                         " DEMO_TARGET_NAME " with LUN 0 on a sparse\n"
		"                         1 GiB file in the state directory\n"
		"  -l, --listen ADDR:PORT iSCSI portal to listen on; repeatable; IPv6 as\n"
		"                         [ADDR]:PORT; default " DEFAULT_PORTAL ";\n"
		"                         ADDR:PORT=PUBLIC:PORT: initiators reach it at\n"
		"                         PUBLIC:PORT (NAT), where a redirect may point\n"
		"  -t, --threads N        reactor threads (default: one per online CPU)\n"
		"  -s, --state-dir DIR    the target's state: DIR/pr/DEVICE holds a device's\n"
		"                         persistent reservations while an initiator asked\n"
		"                         for them to persist (APTPL; DIR/pr is made 0700\n"
		"                         when first needed), and the demo LUN's file is\n"
		"                         DIR/demo-lun0.img (default " DEFAULT_STATE_DIR ")\n"
		"      --max-connections N\n"
		"                         iSCSI connections in all; 0 = no limit\n"
		"                         (default %u)\n"
		"      --max-logins-per-address N\n"
		"                         connections from one address still logging in;\n"
		"                         0 = no limit (default %u)\n"
		"  -v, --log-level LEVEL  error, warn, info (default) or debug\n"
		"      --syslog           log to syslog (journald) instead of stderr\n"
		"      --rpc-socket PATH  the management socket (JSON-RPC 2.0, root only;\n"
		"                         uscstadmin talks to it); \"none\" for none\n"
		"                         (default " RPC_DEFAULT_SOCKET ")\n"
		"      --metrics ADDR:PORT\n"
		"                         serve Prometheus metrics (GET /metrics over HTTP)\n"
		"                         on ADDR:PORT; PORT alone means 127.0.0.1:PORT;\n"
		"                         off by default\n"
		"      --list-attributes  every attribute scst.conf takes, for each section\n"
		"                         (the core's, each handler's, each driver's): type,\n"
		"                         range, default, whether it repeats, whether it\n"
		"                         changes at run time, what it does; then exit\n"
		"      --print-pr-state FILE\n"
		"                         decode a persistent reservation state file\n"
		"                         (DIR/pr/DEVICE) and print it as text, or say why\n"
		"                         it is refused (exit 1); then exit\n"
		"  -h, --help             this text\n"
		"\n"
		"SIGINT or SIGTERM: stop accepting, end the sessions, flush and close\n"
		"the backing files, exit 0.\n"
		"SIGHUP: apply the configuration file again to the running daemon:\n"
		"  new LUNs, groups, devices and targets appear, removed ones go, and\n"
		"  sessions see their new LUN maps; a file that does not load changes\n"
		"  nothing.\n"
		"SIGUSR1: write every session and device with its active commands to\n"
		"the log (lines starting \"dump:\", at level info), and keep serving.\n",
		ISCSI_DEFAULT_MAX_CONNECTIONS, ISCSI_DEFAULT_MAX_LOGINS_PER_ADDRESS);
}

static int parse_log_level(const char *s)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };

	for (int i = 0; i < 4; i++) {
		if (!strcmp(s, names[i])) {
			log_threshold = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

/* Long options without a short form. */
enum {
	OPT_MAX_CONNECTIONS = 256,
	OPT_MAX_LOGINS,
	OPT_LIST_ATTRIBUTES,
	OPT_PRINT_PR_STATE,
	OPT_RPC_SOCKET,
	OPT_SYSLOG,
	OPT_METRICS,
};

/* A count in 0..1000000 for option @name. */
static int parse_count(const char *name, const char *arg, unsigned *out)
{
	char *end;
	long n = strtol(arg, &end, 10);

	if (!*arg || *end || n < 0 || n > 1000000) {
		fprintf(stderr, "uscstd: --%s: '%s' is not a number in 0..1000000\n", name, arg);
		return -1;
	}
	*out = (unsigned)n;
	return 0;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "listen", required_argument, NULL, 'l' },
		{ "threads", required_argument, NULL, 't' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "log-level", required_argument, NULL, 'v' },
		{ "max-connections", required_argument, NULL, OPT_MAX_CONNECTIONS },
		{ "max-logins-per-address", required_argument, NULL, OPT_MAX_LOGINS },
		{ "list-attributes", no_argument, NULL, OPT_LIST_ATTRIBUTES },
		{ "print-pr-state", required_argument, NULL, OPT_PRINT_PR_STATE },
		{ "rpc-socket", required_argument, NULL, OPT_RPC_SOCKET },
		{ "syslog", no_argument, NULL, OPT_SYSLOG },
		{ "metrics", required_argument, NULL, OPT_METRICS },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	long n;
	int c;

	while ((c = getopt_long(argc, argv, "c:l:t:s:v:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 'l':
			if (o->nportals == MAX_PORTALS) {
				fprintf(stderr, "uscstd: at most %d --listen options\n", MAX_PORTALS);
				return -1;
			}
			o->portals[o->nportals++] = optarg;
			break;
		case 't':
			n = strtol(optarg, &end, 10);
			if (*end || n < 1 || n > 256) {
				fprintf(stderr, "uscstd: --threads: '%s' is not in 1..256\n", optarg);
				return -1;
			}
			o->threads = (unsigned)n;
			break;
		case 's':
			o->state_dir = optarg;
			break;
		case 'v':
			if (parse_log_level(optarg)) {
				fprintf(stderr, "uscstd: --log-level: '%s' is not error, warn, info or debug\n",
					optarg);
				return -1;
			}
			break;
		case OPT_MAX_CONNECTIONS:
			if (parse_count("max-connections", optarg, &o->max_connections))
				return -1;
			break;
		case OPT_MAX_LOGINS:
			if (parse_count("max-logins-per-address", optarg, &o->max_logins_per_address))
				return -1;
			break;
		case OPT_LIST_ATTRIBUTES:
			o->list_attributes = true;
			break;
		case OPT_PRINT_PR_STATE:
			o->print_pr_state = optarg;
			break;
		case OPT_RPC_SOCKET:
			o->rpc_socket = optarg;
			break;
		case OPT_SYSLOG:
			o->syslog = true;
			break;
		case OPT_METRICS:
			o->metrics = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "uscstd: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	return 0;
}

static void close_sessions_here(void *arg)
{
	struct scst_tgt_template *tgtt = arg;

	tgtt->close_sessions(NULL);
}

static void destroy_target(struct scst_tgt *tgt, void *ctx)
{
	struct scst_tgt **next = ctx;

	*next = tgt;
}

static void destroy_device(struct scst_device *dev, void *ctx)
{
	struct scst_device **next = ctx;

	*next = dev;
}

/* Removes every object the registry holds; devices flush and close their
 * backing stores in detach. */
static void teardown_objects(void)
{
	struct scst_tgt *tgt;
	struct scst_device *dev;
	char err[256];

	pthread_mutex_lock(&scst_mutex);
	for (;;) {
		tgt = NULL;
		scst_for_each_target(NULL, destroy_target, &tgt);
		if (!tgt)
			break;
		scst_target_destroy(tgt);
	}
	for (;;) {
		dev = NULL;
		scst_for_each_device(destroy_device, &dev);
		if (!dev)
			break;
		if (scst_device_destroy(dev, err, sizeof(err))) {
			log_error("%s", err);
			break;
		}
	}
	pthread_mutex_unlock(&scst_mutex);
	/* A device a reload removed, or one whose last session has just
	 * gone, is released on a reactor: wait for its flush and close
	 * before the reactors stop. */
	if (!scst_wait_devices_released(SHUTDOWN_GRACE_SECONDS))
		log_warn("devices still in use after %d s; stopping anyway", SHUTDOWN_GRACE_SECONDS);
}

static void shutdown_gracefully(void)
{
	struct scst_tgt_template *iscsi = scst_find_target_template("iscsi");
	bool sessions_gone;

	iscsi_stop_listening();
	reactor_run_on_all(close_sessions_here, iscsi);
	/* Sessions were asked to log out within the driver's
	 * logout_timeout (at most 8 s), then dropped. */
	sessions_gone = scst_wait_sessions_gone(SHUTDOWN_GRACE_SECONDS);
	reactor_run_on_all(iscsi_async_close_rest_here, NULL);
	if (!sessions_gone)
		log_warn("%u session(s) still closing after %d s; stopping anyway",
			 scst_session_count(), SHUTDOWN_GRACE_SECONDS);
	/* Every PERSISTENT RESERVE OUT has ended with its session, so no
	 * save is submitted from here on; the writer finishes the queued
	 * ones (their completions need the reactors, still running) before
	 * the devices go. */
	pr_store_stop();
	/* No session is left to start an in-kernel copy; one still on its
	 * way completes to its reactor, which still runs. */
	vdisk_copy_workers_stop();
	if (sessions_gone)
		teardown_objects();
	reactors_stop();
}

/* Serves SIGUSR1 (the state dump) until SIGINT or SIGTERM arrives; returns
 * that signal. The dump runs here, on the main thread, because it visits
 * the reactors with reactor_run_on_all(), which a reactor must not call. */
/* Each connection is a descriptor, and the soft limit (often 1024) is far
 * below what a target serving many initiators needs; the hard limit is what
 * the administrator allows. Past it accept() fails with EMFILE, which the
 * portals survive by pausing (portal.c). */
static void raise_nofile_limit(unsigned max_connections)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl)) {
		log_warn("getrlimit(RLIMIT_NOFILE): %s", strerror(errno));
		return;
	}
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t was = rl.rlim_cur;

		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl)) {
			log_warn("cannot raise the open-file limit from %llu to %llu: %s",
				 (unsigned long long)was, (unsigned long long)rl.rlim_max,
				 strerror(errno));
			getrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	log_info("open-file limit %llu (hard limit %llu)", (unsigned long long)rl.rlim_cur,
		 (unsigned long long)rl.rlim_max);
	if (rl.rlim_cur != RLIM_INFINITY && (max_connections == 0 || max_connections >= rl.rlim_cur))
		log_warn("the open-file limit %llu is not above --max-connections %u: past it, new "
			 "connections wait until descriptors are free", (unsigned long long)rl.rlim_cur,
			 max_connections);
}

/* SIGHUP: the configuration file again, applied to the running daemon
 * (config_reload_file()): sessions keep running and see their new LUN
 * maps; a file that does not load changes nothing. */
static void reload_config(const char *path)
{
	char err[512];

	if (!path) {
		log_warn("config: SIGHUP: no configuration file (-c) to reload");
		return;
	}
	log_info("config: SIGHUP: reloading %s", path);
	service_reloading(path);
	if (config_reload_file(path, err, sizeof(err))) {
		log_error("config: reload refused, nothing changed: %s", err);
		service_reloaded("reload of %s refused: %s", path, err);
	} else {
		log_info("config: reload of %s done", path);
		service_reloaded("serving %s", path);
	}
}

static int wait_for_signal(const char *config)
{
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGHUP);
	for (;;) {
		if (sigwait(&set, &sig))
			return -1;
		if (sig == SIGUSR1)
			scst_dump_state();
		else if (sig == SIGHUP)
			reload_config(config);
		else
			return sig;
	}
}

/* The management socket. The default one is optional (a daemon run by a
 * user who cannot write /run still serves its initiators, without it); one
 * asked for by --rpc-socket must be there. Returns -1 when it must and is
 * not. */
static int start_rpc(const char *path)
{
	char err[512];

	if (path && strcmp(path, "none") == 0)
		return 0;
	if (rpc_server_start(path ? path : RPC_DEFAULT_SOCKET, err, sizeof(err)) == 0)
		return 0;
	if (path) {
		log_error("%s", err);
		return -1;
	}
	log_warn("%s; serving without a management socket", err);
	return 0;
}

/* --metrics: asked for, it must be there. */
static int start_metrics(const char *addr_port)
{
	char err[512];

	if (!addr_port || metrics_http_start(addr_port, err, sizeof(err)) == 0)
		return 0;
	log_error("--metrics %s: %s", addr_port, err);
	return -1;
}

/* --print-pr-state FILE: the decoder's verdict on a state file, for an
 * administrator (and the tests). Reads only: safe on a running daemon's
 * file. */
static int print_pr_state(const char *path)
{
	struct scst_pr pr;
	char err[512];
	int rc = pr_store_read_file(path, &pr, err, sizeof(err));

	if (rc == -ENOENT) {
		fprintf(stderr, "uscstd: %s: no such file (a device without its file starts "
				"with no registrations)\n",
			path);
		return 1;
	}
	if (rc) {
		fprintf(stderr, "uscstd: %s\n", err);
		return 1;
	}
	pr_store_print(stdout, &pr);
	pr_store_release(&pr);
	return fflush(stdout) ? 1 : 0;
}

/* --list-attributes: the descriptor tables of the core and of every
 * built-in handler and driver (core/attr_desc.h), as registered. */
static int list_attributes(void)
{
	scst_core_init();
	if (vdisk_register() || iscsi_driver_register()) {
		log_error("cannot register the built-in handlers and drivers");
		return 1;
	}
	printf("Attributes of scst.conf, by section. A default of \"none\" means\n"
	       "none or one derived as the text says. \"set at creation only\": changing it\n"
	       "needs the object created again.\n\n");
	scst_attr_list_all(stdout);
	return fflush(stdout) ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct options o = {
		.state_dir = DEFAULT_STATE_DIR,
		.max_connections = ISCSI_DEFAULT_MAX_CONNECTIONS,
		.max_logins_per_address = ISCSI_DEFAULT_MAX_LOGINS_PER_ADDRESS,
	};
	char err[512];
	sigset_t set;
	long ncpu;
	int sig;

	if (parse_options(argc, argv, &o))
		return 2;
	/* It says itself when syslog does not answer (and keeps stderr). */
	if (o.syslog)
		log_use_syslog("uscstd");
	if (o.list_attributes)
		return list_attributes();
	if (o.print_pr_state)
		return print_pr_state(o.print_pr_state);
	if (!o.nportals)
		o.portals[o.nportals++] = DEFAULT_PORTAL;
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (!o.threads)
		o.threads = ncpu > 0 ? (unsigned)ncpu : 1;

	/* Signals are taken by sigwait() on this thread only; the reactors
	 * inherit the blocked mask. Peers that vanish must not SIGPIPE us. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	raise_nofile_limit(o.max_connections);
	iscsi_set_connection_limits(o.max_connections, o.max_logins_per_address);
	scst_core_init();
	if (vdisk_register() || iscsi_driver_register()) {
		log_error("cannot register the built-in handlers and drivers");
		return 1;
	}
	if (reactors_start(o.threads)) {
		log_error("cannot start %u reactor threads", o.threads);
		return 1;
	}
	/* Before the devices: each loads its persistent reservations from
	 * the state directory as it is created. */
	if (pr_store_start(o.state_dir, err, sizeof(err))) {
		log_error("%s", err);
		reactors_stop();
		return 1;
	}
	if (o.config ? config_load_file(o.config, err, sizeof(err))
		     : demo_target_create(o.state_dir, err, sizeof(err))) {
		log_error("%s", err);
		log_error("not serving anything; exiting");
		pr_store_stop();
		teardown_objects();
		reactors_stop();
		return 1;
	}
	for (unsigned i = 0; i < o.nportals; i++) {
		if (iscsi_listen(o.portals[i], err, sizeof(err))) {
			log_error("%s", err);
			iscsi_stop_listening();
			pr_store_stop();
			teardown_objects();
			reactors_stop();
			return 1;
		}
		log_info("listening on %s", o.portals[i]);
	}
	if (start_rpc(o.rpc_socket) || start_metrics(o.metrics)) {
		rpc_server_stop();
		iscsi_stop_listening();
		pr_store_stop();
		teardown_objects();
		reactors_stop();
		return 1;
	}
	log_info("uscstd ready: %u reactor thread(s)%s%s", o.threads, o.config ? ", config " : "",
		 o.config ? o.config : ", demo target " DEMO_TARGET_NAME);
	service_ready("serving %s", o.config ? o.config : "the demo target");

	sig = wait_for_signal(o.config);
	log_info("%s received: shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
	service_stopping();
	/* No management verb or scrape may run while the objects go. */
	rpc_server_stop();
	metrics_http_stop();
	shutdown_gracefully();
	log_info("uscstd stopped");
	return 0;
}
