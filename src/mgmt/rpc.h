/* The management RPC's protocol layer: JSON-RPC 2.0 requests in, responses
 * out (docs/rpc.md is the contract). No sockets here (rpc_server.c) and no
 * management verbs (mgmt_*.c): this file decodes a byte stream into
 * requests, checks each against its method's parameter list, runs the
 * method and encodes what it said, so that the fuzz harness can drive the
 * whole path with bytes.
 *
 * Threads: everything here runs on the management thread (rpc_server.c's,
 * or the fuzz harness's); a method's run() is called with scst_mutex held
 * unless its table entry says it takes the lock itself. */
#ifndef USCST_MGMT_RPC_H
#define USCST_MGMT_RPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "core/scst.h"

/* docs/rpc.md's error codes. */
enum rpc_error_code {
	RPC_PARSE_ERROR = -32700,
	RPC_INVALID_REQUEST = -32600,
	RPC_METHOD_NOT_FOUND = -32601,
	RPC_INVALID_PARAMS = -32602,
	RPC_REFUSED = -32000,          /* would break a rule; nothing changed */
	RPC_NOT_FOUND = -32001,        /* no such object */
	RPC_FAILED = -32002,           /* valid, but could not be done */
	RPC_PERMISSION_DENIED = -32003,
};

/* The largest request the stream accepts; past it the connection ends. */
#define RPC_MAX_REQUEST (1u << 20)
/* How deep a request's JSON may nest (the methods need 3). */
#define RPC_MAX_DEPTH 16

enum rpc_param_type {
	RPC_PARAM_STRING,
	RPC_PARAM_UINT,  /* a JSON integer >= 0 (or a string of one) */
	RPC_PARAM_BOOL,  /* true / false (or 1 / 0) */
	RPC_PARAM_ATTRS, /* {"name": value or [values]}: rpc_param_attrs() */
};

struct rpc_param {
	const char *name;
	enum rpc_param_type type;
	bool required;
	const char *help;
};

struct rpc_call;

struct rpc_method {
	const char *name;   /* "lun.add" */
	const char *help;   /* one sentence, for rpc.methods */
	/* Terminated by an entry with name NULL. Anything else in params is
	 * refused (-32602), so that a misspelt optional one is not ignored. */
	const struct rpc_param *params;
	/* Returns 0 with call->result set (NULL means {}), or -1 after
	 * rpc_fail(). */
	int (*run)(struct rpc_call *call);
	/* run() takes scst_mutex itself: it waits for reactors (closing
	 * sessions), which must never happen with the lock held. */
	bool unlocked;
};

/* One request being served. */
struct rpc_call {
	const struct rpc_method *method;
	json_object *params; /* checked against method->params; never NULL */
	json_object *result; /* run()'s answer, owned by the call */
	int code;            /* the error, after rpc_fail() */
	char message[512];
	const char *bad_param;
};

/* Every method, in rpc_methods.c; terminated by name NULL. */
extern const struct rpc_method rpc_methods[];
const struct rpc_method *rpc_find_method(const char *name);

/* Records an error for the response; returns -1 for run() to return. */
int rpc_fail(struct rpc_call *call, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The same, naming parameter @param in the error's data. */
int rpc_fail_param(struct rpc_call *call, const char *param, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Parameters, already checked against the method's list: absent optional
 * ones read as NULL / @def / false. */
const char *rpc_str(const struct rpc_call *call, const char *name);
uint64_t rpc_u64(const struct rpc_call *call, const char *name, uint64_t def);
bool rpc_bool(const struct rpc_call *call, const char *name);
bool rpc_has(const struct rpc_call *call, const char *name);

/* Attributes given as parameter @name, as the core takes them: one entry
 * per value (an array gives several of the same name), strings owned by
 * the list. */
struct rpc_attrs {
	struct scst_attr *v;
	unsigned n;
	char **owned; /* n strings: the values as text */
};
int rpc_param_attrs(struct rpc_call *call, const char *name, struct rpc_attrs *out);
void rpc_attrs_free(struct rpc_attrs *a);
/* Appends one; @name is not copied (it must outlive the list). */
int rpc_attrs_add(struct rpc_attrs *a, const char *name, const char *value);

/* Serves one decoded request: checks it, runs its method (taking
 * scst_mutex unless the method is unlocked) and returns the response
 * object, or NULL for a notification (no id). @peer names the client in
 * log lines. */
json_object *rpc_handle_request(json_object *req, const char *peer);

/* A connection's byte stream: requests follow one another, separated by
 * whitespace. */
struct rpc_stream {
	struct json_tokener *tok;
	size_t request_bytes; /* fed into the request being decoded */
	bool in_request;      /* a request has begun */
};

int rpc_stream_init(struct rpc_stream *s);
void rpc_stream_fini(struct rpc_stream *s);
/* Feeds @len bytes. Each response is passed to @reply (a JSON text
 * without the newline, valid during the call). Returns the bytes
 * consumed: all of them, or fewer when the stream must end (bytes that are
 * not JSON, a request past RPC_MAX_REQUEST): then *@fatal is set after the
 * error's response has been given to @reply. */
size_t rpc_stream_feed(struct rpc_stream *s, const char *buf, size_t len, const char *peer,
		       void (*reply)(void *ctx, const char *text, size_t len), void *ctx,
		       bool *fatal);

/* An error response for a request that never got as far as an id. */
json_object *rpc_error_response(json_object *id, int code, const char *message);

#endif
