/* JSON-RPC 2.0 decoding, checking and dispatch (rpc.h). */
#include <assert.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "mgmt/config.h"
#include "mgmt/rpc.h"

const struct rpc_method *rpc_find_method(const char *name)
{
	for (const struct rpc_method *m = rpc_methods; m->name; m++)
		if (strcmp(m->name, name) == 0)
			return m;
	return NULL;
}

static void vfail(struct rpc_call *call, const char *param, int code, const char *fmt,
		  va_list ap)
{
	call->code = code;
	call->bad_param = param;
	vsnprintf(call->message, sizeof(call->message), fmt, ap);
}

int rpc_fail(struct rpc_call *call, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(call, NULL, code, fmt, ap);
	va_end(ap);
	return -1;
}

int rpc_fail_param(struct rpc_call *call, const char *param, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(call, param, code, fmt, ap);
	va_end(ap);
	return -1;
}

/* ------------------------------------------------------------------ */
/* Parameters */

bool rpc_has(const struct rpc_call *call, const char *name)
{
	return json_object_object_get_ex(call->params, name, NULL);
}

const char *rpc_str(const struct rpc_call *call, const char *name)
{
	json_object *v;

	if (!json_object_object_get_ex(call->params, name, &v))
		return NULL;
	return json_object_get_string(v);
}

/* A value as scst.conf would write it: strings as they are, integers in
 * decimal, booleans as 1 / 0. NULL for anything else. */
static const char *scalar_text(json_object *v, char *buf, size_t len)
{
	switch (json_object_get_type(v)) {
	case json_type_string:
		return json_object_get_string(v);
	case json_type_int:
		if (json_object_get_int64(v) < 0)
			snprintf(buf, len, "%" PRId64, json_object_get_int64(v));
		else
			snprintf(buf, len, "%" PRIu64, json_object_get_uint64(v));
		return buf;
	case json_type_boolean:
		return json_object_get_boolean(v) ? "1" : "0";
	default:
		return NULL;
	}
}

static bool read_u64(json_object *v, uint64_t *out)
{
	if (json_object_is_type(v, json_type_int)) {
		if (json_object_get_int64(v) < 0)
			return false;
		*out = json_object_get_uint64(v);
		return true;
	}
	if (json_object_is_type(v, json_type_string))
		return scst_attr_u64(json_object_get_string(v), out);
	return false;
}

static bool read_bool(json_object *v, bool *out)
{
	uint64_t n;

	if (json_object_is_type(v, json_type_boolean)) {
		*out = json_object_get_boolean(v);
		return true;
	}
	if (json_object_is_type(v, json_type_string))
		return scst_attr_bool(json_object_get_string(v), out);
	if (read_u64(v, &n) && n <= 1) {
		*out = n == 1;
		return true;
	}
	return false;
}

uint64_t rpc_u64(const struct rpc_call *call, const char *name, uint64_t def)
{
	json_object *v;
	uint64_t n;

	if (!json_object_object_get_ex(call->params, name, &v) || !read_u64(v, &n))
		return def;
	return n;
}

bool rpc_bool(const struct rpc_call *call, const char *name)
{
	json_object *v;
	bool b = false;

	if (json_object_object_get_ex(call->params, name, &v))
		read_bool(v, &b);
	return b;
}

void rpc_attrs_free(struct rpc_attrs *a)
{
	for (unsigned i = 0; i < a->n; i++)
		free(a->owned[i]);
	free(a->owned);
	free(a->v);
	*a = (struct rpc_attrs){ 0 };
}

int rpc_attrs_add(struct rpc_attrs *a, const char *name, const char *value)
{
	struct scst_attr *v = realloc(a->v, (a->n + 1) * sizeof(*v));
	char **owned;

	if (!v)
		return -1;
	a->v = v;
	owned = realloc(a->owned, (a->n + 1) * sizeof(*owned));
	if (!owned)
		return -1;
	a->owned = owned;
	if (!(a->owned[a->n] = strdup(value)))
		return -1;
	/* The name is not copied: a params object's key or a descriptor's
	 * name, either of which outlives the list. */
	a->v[a->n] = (struct scst_attr){ .name = name, .value = a->owned[a->n] };
	a->n++;
	return 0;
}

int rpc_param_attrs(struct rpc_call *call, const char *name, struct rpc_attrs *out)
{
	json_object *obj;
	char num[24];

	*out = (struct rpc_attrs){ 0 };
	if (!json_object_object_get_ex(call->params, name, &obj))
		return 0;
	/* Types were checked with the request (check_param()). */
	json_object_object_foreach(obj, key, val) {
		if (json_object_is_type(val, json_type_array)) {
			for (size_t i = 0; i < json_object_array_length(val); i++) {
				const char *t = scalar_text(json_object_array_get_idx(val, i), num,
							    sizeof(num));

				if (rpc_attrs_add(out, key, t) < 0)
					goto oom;
			}
		} else if (rpc_attrs_add(out, key, scalar_text(val, num, sizeof(num))) < 0) {
			goto oom;
		}
	}
	return 0;
oom:
	rpc_attrs_free(out);
	return rpc_fail(call, RPC_FAILED, "out of memory");
}

/* Whether @v can be read as the parameter's type; writes why not. */
static bool check_param(const struct rpc_param *p, json_object *v, char *why, size_t len)
{
	uint64_t n;
	bool b;
	char num[24];

	switch (p->type) {
	case RPC_PARAM_STRING:
		if (json_object_is_type(v, json_type_string))
			return true;
		snprintf(why, len, "parameter '%s' must be a string", p->name);
		return false;
	case RPC_PARAM_UINT:
		if (read_u64(v, &n))
			return true;
		snprintf(why, len, "parameter '%s' must be an integer >= 0", p->name);
		return false;
	case RPC_PARAM_BOOL:
		if (read_bool(v, &b))
			return true;
		snprintf(why, len, "parameter '%s' must be true or false", p->name);
		return false;
	case RPC_PARAM_ATTRS:
		if (!json_object_is_type(v, json_type_object)) {
			snprintf(why, len, "parameter '%s' must be an object of attribute values",
				 p->name);
			return false;
		}
		json_object_object_foreach(v, key, val) {
			bool ok = scalar_text(val, num, sizeof(num)) != NULL;

			if (json_object_is_type(val, json_type_array)) {
				ok = json_object_array_length(val) > 0;
				for (size_t i = 0; ok && i < json_object_array_length(val); i++)
					ok = scalar_text(json_object_array_get_idx(val, i), num,
							 sizeof(num)) != NULL;
			}
			if (!ok) {
				snprintf(why, len, "attribute '%s' of '%s' must be a string, a number, "
					 "a boolean or a non-empty array of them", key, p->name);
				return false;
			}
		}
		return true;
	}
	return false;
}

/* Checks @params against @m's list: every required one present, each of
 * its type, nothing unknown. */
static int check_params(struct rpc_call *call, const struct rpc_method *m, json_object *params)
{
	char why[256];

	for (const struct rpc_param *p = m->params; p && p->name; p++) {
		json_object *v;

		if (!json_object_object_get_ex(params, p->name, &v)) {
			if (p->required)
				return rpc_fail_param(call, p->name, RPC_INVALID_PARAMS,
						      "%s: missing parameter '%s'", m->name, p->name);
			continue;
		}
		if (!check_param(p, v, why, sizeof(why)))
			return rpc_fail_param(call, p->name, RPC_INVALID_PARAMS, "%s: %s", m->name,
					      why);
	}
	json_object_object_foreach(params, key, val) {
		const struct rpc_param *p = m->params;

		(void)val;
		while (p && p->name && strcmp(p->name, key))
			p++;
		if (!p || !p->name)
			return rpc_fail_param(call, key, RPC_INVALID_PARAMS,
					      "%s: unknown parameter '%s'", m->name, key);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Requests and responses */

json_object *rpc_error_response(json_object *id, int code, const char *message)
{
	json_object *resp = json_object_new_object();
	json_object *err = json_object_new_object();

	json_object_object_add(err, "code", json_object_new_int(code));
	json_object_object_add(err, "message", json_object_new_string(message));
	/* Always there (docs/rpc.md); the method and parameter when known. */
	json_object_object_add(err, "data", json_object_new_object());
	json_object_object_add(resp, "jsonrpc", json_object_new_string("2.0"));
	json_object_object_add(resp, "id", id ? json_object_get(id) : NULL);
	json_object_object_add(resp, "error", err);
	return resp;
}

static json_object *call_error_response(json_object *id, const struct rpc_call *call,
					const char *method)
{
	json_object *resp = rpc_error_response(id, call->code, call->message);
	json_object *err, *data;

	json_object_object_get_ex(resp, "error", &err);
	json_object_object_get_ex(err, "data", &data);
	if (method)
		json_object_object_add(data, "method", json_object_new_string(method));
	if (call->bad_param)
		json_object_object_add(data, "param", json_object_new_string(call->bad_param));
	return resp;
}

/* An id is a string, a number or null (JSON-RPC 2.0, 4). */
static bool id_valid(json_object *id)
{
	switch (json_object_get_type(id)) {
	case json_type_null:
	case json_type_string:
	case json_type_int:
	case json_type_double:
		return true;
	default:
		return false;
	}
}

json_object *rpc_handle_request(json_object *req, const char *peer)
{
	struct rpc_call call = { .code = 0 };
	json_object *version, *method_obj, *params = NULL, *id = NULL, *resp;
	const struct rpc_method *m;
	bool has_id;
	const char *name;
	int rc;

	if (!json_object_is_type(req, json_type_object)) {
		log_warn_rl("rpc %s: refused: %s", peer,
			    json_object_is_type(req, json_type_array)
				    ? "batches are not accepted"
				    : "a request must be a JSON object");
		return rpc_error_response(NULL, RPC_INVALID_REQUEST,
					  json_object_is_type(req, json_type_array)
						  ? "batches are not accepted"
						  : "a request must be a JSON-RPC 2.0 request object");
	}
	has_id = json_object_object_get_ex(req, "id", &id);
	if (has_id && !id_valid(id))
		return rpc_error_response(NULL, RPC_INVALID_REQUEST,
					  "id must be a string, a number or null");
	if (!json_object_object_get_ex(req, "jsonrpc", &version) ||
	    !json_object_is_type(version, json_type_string) ||
	    strcmp(json_object_get_string(version), "2.0") != 0)
		return rpc_error_response(id, RPC_INVALID_REQUEST, "\"jsonrpc\": \"2.0\" is missing");
	if (!json_object_object_get_ex(req, "method", &method_obj) ||
	    !json_object_is_type(method_obj, json_type_string))
		return rpc_error_response(id, RPC_INVALID_REQUEST, "method must be a string");
	json_object_object_foreach(req, key, val) {
		(void)val;
		if (strcmp(key, "jsonrpc") && strcmp(key, "method") && strcmp(key, "params") &&
		    strcmp(key, "id")) {
			char msg[128];

			snprintf(msg, sizeof(msg), "unknown member '%.64s' in the request", key);
			return rpc_error_response(id, RPC_INVALID_REQUEST, msg);
		}
	}
	name = json_object_get_string(method_obj);
	if (json_object_object_get_ex(req, "params", &params) &&
	    !json_object_is_type(params, json_type_object))
		return rpc_error_response(id, RPC_INVALID_REQUEST,
					  "params must be an object (named parameters)");
	m = rpc_find_method(name);
	if (!m) {
		rpc_fail(&call, RPC_METHOD_NOT_FOUND, "method '%.64s' not found", name);
		rc = -1;
	} else {
		json_object *empty = params ? NULL : json_object_new_object();

		call.method = m;
		call.params = params ? params : empty;
		rc = check_params(&call, m, call.params);
		if (rc == 0) {
			pthread_mutex_lock(&mgmt_mutex);
			if (!m->unlocked)
				pthread_mutex_lock(&scst_mutex);
			rc = m->run(&call);
			if (!m->unlocked)
				pthread_mutex_unlock(&scst_mutex);
			pthread_mutex_unlock(&mgmt_mutex);
		}
		json_object_put(empty);
	}
	if (rc < 0) {
		log_info("rpc %s: %s refused: %s", peer, m ? m->name : "(unknown method)",
			 call.message);
		json_object_put(call.result);
		return has_id ? call_error_response(id, &call, name) : NULL;
	}
	if (!has_id) {
		json_object_put(call.result);
		return NULL;
	}
	resp = json_object_new_object();
	json_object_object_add(resp, "jsonrpc", json_object_new_string("2.0"));
	json_object_object_add(resp, "id", json_object_get(id));
	json_object_object_add(resp, "result", call.result ? call.result : json_object_new_object());
	return resp;
}

/* ------------------------------------------------------------------ */
/* The byte stream */

int rpc_stream_init(struct rpc_stream *s)
{
	*s = (struct rpc_stream){ 0 };
	s->tok = json_tokener_new_ex(RPC_MAX_DEPTH);
	if (!s->tok)
		return -1;
	json_tokener_set_flags(s->tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS |
					       JSON_TOKENER_VALIDATE_UTF8);
	return 0;
}

void rpc_stream_fini(struct rpc_stream *s)
{
	if (s->tok)
		json_tokener_free(s->tok);
	s->tok = NULL;
}

static void emit(json_object *resp, void (*reply)(void *ctx, const char *text, size_t len),
		 void *ctx)
{
	size_t len;
	const char *text;

	if (!resp)
		return;
	text = json_object_to_json_string_length(resp, JSON_C_TO_STRING_PLAIN |
							       JSON_C_TO_STRING_NOSLASHESCAPE,
						 &len);
	reply(ctx, text, len);
	json_object_put(resp);
}

size_t rpc_stream_feed(struct rpc_stream *s, const char *buf, size_t len, const char *peer,
		       void (*reply)(void *ctx, const char *text, size_t len), void *ctx,
		       bool *fatal)
{
	size_t used = 0;

	*fatal = false;
	while (used < len) {
		size_t chunk, room;
		json_object *req;
		enum json_tokener_error e;

		if (!s->in_request) {
			/* Whitespace between requests is not part of any. */
			while (used < len && isspace((unsigned char)buf[used]))
				used++;
			if (used == len)
				break;
			s->in_request = true;
			s->request_bytes = 0;
		}
		room = RPC_MAX_REQUEST - s->request_bytes;
		chunk = len - used < room ? len - used : room;
		req = json_tokener_parse_ex(s->tok, buf + used, (int)chunk);
		e = json_tokener_get_error(s->tok);
		if (e == json_tokener_continue) {
			used += chunk;
			s->request_bytes += chunk;
			if (s->request_bytes >= RPC_MAX_REQUEST) {
				log_warn_rl("rpc %s: request larger than %u bytes: closing", peer,
					    RPC_MAX_REQUEST);
				emit(rpc_error_response(NULL, RPC_INVALID_REQUEST,
							"request larger than 1 MiB"),
				     reply, ctx);
				*fatal = true;
				return used;
			}
			continue;
		}
		if (e != json_tokener_success) {
			char msg[160];

			snprintf(msg, sizeof(msg), "not JSON: %s", json_tokener_error_desc(e));
			log_warn_rl("rpc %s: %s: closing", peer, msg);
			emit(rpc_error_response(NULL, RPC_PARSE_ERROR, msg), reply, ctx);
			*fatal = true;
			return used;
		}
		/* A whole value; what follows it belongs to the next one. */
		used += json_tokener_get_parse_end(s->tok);
		json_tokener_reset(s->tok);
		s->in_request = false;
		emit(rpc_handle_request(req, peer), reply, ctx);
		json_object_put(req);
		/* One request at a time: the caller sends its response
		 * before it feeds the rest, so a client that never reads
		 * holds one response, not thousands. */
		break;
	}
	return used;
}
