/* Windows ODX (SBC-4 5.9, 5.44, SPC-4 6.18.9): POPULATE TOKEN, WRITE
 * USING TOKEN and RECEIVE ROD TOKEN INFORMATION (copy_odx.c), on the
 * token store (copy_token.h) and the copy manager's job (copy_job.c),
 * which copies a WRITE USING TOKEN's pieces with its lanes of internal
 * commands as it copies an EXTENDED COPY's segments. docs/copy.md
 * describes the whole. */
#ifndef USCST_CORE_COPY_ODX_H
#define USCST_CORE_COPY_ODX_H

#include <stdbool.h>
#include <stdint.h>

#include "core/scst.h"

struct copy_token;

/* One piece of a WRITE USING TOKEN: @len bytes from @src_lba of @src to
 * @dst_lba of @dst, or zeros to @dst (the block device zero ROD token)
 * when @zeros (@src is ignored then). */
struct copy_piece {
	struct scst_tgt_dev *src, *dst;
	uint64_t src_lba, dst_lba;
	uint64_t len;
	bool zeros;
};

/* Called right before scst_cmd_done() of the command the job ran for,
 * with its status and sense set and the bytes written. */
typedef void (*copy_job_ended_fn)(struct scst_cmd *cmd, uint64_t bytes_written, void *ctx);

/* Copies @n pieces (at most 128, each checked by the caller against its
 * devices) for @cmd, which stays in EXEC until it is done
 * (scst_cmd_done() is the job's). The job takes its own references to
 * the nexuses, and takes over the caller's reference to @token (NULL
 * for none): every chunk read is checked against its revocation, and a
 * revoked token ends the copy with COPY ABORTED, INVALID TOKEN
 * OPERATION, TOKEN REVOKED. @token_claim (0: none) is the caller's claim
 * of @token (copy_token_claim()) when the pieces write its blocks: the
 * job's WRITEs carry it, and the pieces run in the order given, each
 * read before it is overwritten (copy_odx.c orders them). On the
 * session's reactor. */
void copy_job_run_pieces(struct scst_cmd *cmd, const struct copy_piece *p, unsigned n,
			 struct copy_token *token, uint64_t token_claim, copy_job_ended_fn ended,
			 void *ctx);

/* @sess has ended (session.c, on its reactor, once no command of it is
 * left): its RECEIVE ROD TOKEN INFORMATION records go. The tokens its
 * POPULATE TOKENs made stay: they are their device's. */
void copy_odx_session_gone(const struct scst_session *sess);

int scst_odx_parse(struct scst_cmd *cmd);
void scst_odx_exec(struct scst_cmd *cmd);
int scst_rrti_parse(struct scst_cmd *cmd);
void scst_rrti_exec(struct scst_cmd *cmd);

#endif
