/* libFuzzer harness: bytes through the management RPC's stream decoder and
 * dispatcher (src/mgmt/rpc.c), every method included, against a registry
 * that has the iSCSI driver and vdisk_nullio only (no method of the input
 * can open a file) and no reactor (no session ever exists).
 *
 * The input is a connection's byte stream, fed in pieces whose sizes the
 * input's first byte picks, as a socket would deliver it. What must hold,
 * beyond what ASan and UBSan see:
 *  - every response is one JSON object with "jsonrpc": "2.0", the request's
 *    id member, and exactly one of "result" and "error"; an error has an
 *    integer code of docs/rpc.md's table and a message;
 *  - the decoder makes progress: each call consumes bytes, answers (a
 *    number ends at the byte after it, which the next call reads) or
 *    says the stream must end;
 *  - once the input is over, config.clear leaves the registry empty.
 * A violation aborts. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/scst.h"
#include "handlers/vdisk/vdisk.h"
#include "mgmt/rpc.h"
#include "targets/iscsi/iscsi.h"

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "fuzz_rpc: %s:%d: check failed: %s\n", \
				__FILE__, __LINE__, #cond);                    \
			abort();                                               \
		}                                                              \
	} while (0)

static void setup_once(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	scst_core_init();
	if (vdisk_register_nullio_only() || iscsi_driver_register()) {
		fprintf(stderr, "fuzz_rpc: cannot register vdisk_nullio and iscsi\n");
		abort();
	}
}

static bool known_code(int code)
{
	static const int codes[] = { RPC_PARSE_ERROR, RPC_INVALID_REQUEST, RPC_METHOD_NOT_FOUND,
				     RPC_INVALID_PARAMS, RPC_REFUSED, RPC_NOT_FOUND, RPC_FAILED,
				     RPC_PERMISSION_DENIED };

	for (unsigned i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (codes[i] == code)
			return true;
	return false;
}

static void check_response(void *ctx, const char *text, size_t len)
{
	json_object *resp = json_tokener_parse(text), *v, *err;
	bool has_result, has_error;

	(*(unsigned *)ctx)++;
	CHECK(strlen(text) == len);
	CHECK(resp && json_object_is_type(resp, json_type_object));
	CHECK(json_object_object_get_ex(resp, "jsonrpc", &v) &&
	      strcmp(json_object_get_string(v), "2.0") == 0);
	CHECK(json_object_object_get_ex(resp, "id", NULL));
	has_result = json_object_object_get_ex(resp, "result", NULL);
	has_error = json_object_object_get_ex(resp, "error", &err);
	CHECK(has_result != has_error);
	if (has_error) {
		CHECK(json_object_object_get_ex(err, "code", &v) &&
		      json_object_is_type(v, json_type_int) && known_code(json_object_get_int(v)));
		CHECK(json_object_object_get_ex(err, "message", &v) &&
		      json_object_is_type(v, json_type_string));
	}
	json_object_put(resp);
}

static void feed_all(const char *buf, size_t len, size_t piece)
{
	struct rpc_stream s;
	size_t off = 0;

	CHECK(rpc_stream_init(&s) == 0);
	while (off < len) {
		size_t n = len - off < piece ? len - off : piece, used = 0;
		bool fatal = false;

		/* As rpc_server.c does: feed the rest of a piece after each
		 * response. */
		while (used < n && !fatal) {
			unsigned answered = 0;
			size_t u = rpc_stream_feed(&s, buf + off + used, n - used, "fuzz",
						   check_response, &answered, &fatal);

			CHECK(u <= n - used);
			CHECK(u > 0 || fatal || answered);
			used += u;
		}
		if (fatal)
			break;
		off += n;
	}
	rpc_stream_fini(&s);
}

static void count(struct scst_device *dev, void *arg)
{
	(void)dev;
	(*(unsigned *)arg)++;
}

static void count_tgt(struct scst_tgt *tgt, void *arg)
{
	(void)tgt;
	(*(unsigned *)arg)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char clear[] = "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"config.clear\"}";
	unsigned ndevs = 0, ntgts = 0;

	setup_once();
	if (size == 0)
		return 0;
	/* Pieces of 1..256 bytes, or all at once. */
	feed_all((const char *)data + 1, size - 1, data[0] ? data[0] : size);
	feed_all(clear, strlen(clear), sizeof(clear));
	pthread_mutex_lock(&scst_mutex);
	scst_for_each_device(count, &ndevs);
	scst_for_each_target(NULL, count_tgt, &ntgts);
	pthread_mutex_unlock(&scst_mutex);
	CHECK(ndevs == 0 && ntgts == 0);
	return 0;
}
