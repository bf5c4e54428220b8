/* The configuration file's entry points: the load at start-up and the
 * SIGHUP reload (config_apply() does the work), and what a reload leaves
 * to do outside scst_mutex: closing the sessions of the targets it
 * removed, which needs every reactor, and destroying those targets once
 * their last session is freed. */
#include <stdlib.h>
#include <unistd.h>

#include "base/log.h"
#include "base/reactor.h"
#include "core/scst.h"
#include "mgmt/config.h"
#include "mgmt/config_diff.h"

pthread_mutex_t mgmt_mutex = PTHREAD_MUTEX_INITIALIZER;

int config_load_file(const char *path, char *err, size_t errlen)
{
	struct config_tree *tree = config_parse_file(path, err, errlen);
	int rc;

	if (!tree)
		return -1;
	/* The registry's lists are scst_mutex's (src/core/scst.h). */
	pthread_mutex_lock(&scst_mutex);
	rc = config_apply(tree, NULL, err, errlen);
	pthread_mutex_unlock(&scst_mutex);
	config_free(tree);
	return rc;
}

static void close_target_sessions_here(void *arg)
{
	struct scst_tgt *tgt = arg;

	tgt->tgtt->close_sessions(tgt);
}

/* How long a removed target's sessions may take to close before the
 * reload gives up on destroying it (it stays disabled, without LUNs). */
#define REMOVAL_WAIT_SECONDS 30

void config_finish_removals(struct config_leftovers *left)
{
	for (unsigned i = 0; i < left->ntgts; i++) {
		struct scst_tgt *tgt = left->tgts[i];
		bool gone = false;

		/* Each reactor closes the sessions it holds; they are gone
		 * once their commands have drained. */
		reactor_run_on_all(close_target_sessions_here, tgt);
		for (int ms = 0; ms < REMOVAL_WAIT_SECONDS * 1000; ms += 10) {
			pthread_mutex_lock(&scst_mutex);
			gone = tgt->sessions_alive == 0;
			if (gone)
				scst_target_destroy(tgt);
			pthread_mutex_unlock(&scst_mutex);
			if (gone)
				break;
			usleep(10000);
		}
		if (!gone)
			log_error("target %s: sessions still open after %d s; it stays, disabled "
				  "and without LUNs", tgt->name, REMOVAL_WAIT_SECONDS);
	}
	free(left->tgts);
	*left = (struct config_leftovers){ 0 };
}

static void log_step(void *ctx, const char *line)
{
	log_info("config: %s: %s", (const char *)ctx, line);
}

int config_reload_file(const char *path, char *err, size_t errlen)
{
	struct config_tree *tree = config_parse_file(path, err, errlen);
	struct config_leftovers left;
	int rc;

	if (!tree)
		return -1;
	pthread_mutex_lock(&mgmt_mutex);
	pthread_mutex_lock(&scst_mutex);
	/* The steps, as -config reports them, before they are taken: a
	 * refused file is logged as refused right after. */
	rc = config_steps(tree, log_step, (void *)path, err, errlen);
	if (rc >= 0)
		rc = config_apply(tree, &left, err, errlen);
	pthread_mutex_unlock(&scst_mutex);
	config_free(tree);
	if (rc == 0)
		config_finish_removals(&left);
	pthread_mutex_unlock(&mgmt_mutex);
	return rc < 0 ? -1 : 0;
}
