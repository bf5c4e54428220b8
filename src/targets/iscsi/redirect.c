/* Login redirect (redirect.h): the `redirect` attribute, and the Login
 * Response that sends an initiator elsewhere. */
#include "targets/iscsi/redirect.h"

#include <arpa/inet.h>
#include <assert.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "targets/iscsi/conn.h"
#include "targets/iscsi/iscsi.h"
#include "targets/iscsi/pdu.h"

const char *const iscsi_redirect_types[] = { "temporary", "permanent", NULL };

/* RFC 7143 11.13.5: status class 1 (redirection), details 1 and 2. */
#define STATUS_MOVED_TEMPORARILY 0x0101
#define STATUS_MOVED_PERMANENTLY 0x0102

/* A DNS name as RFC 1123 writes one: letters, digits, '-' and '.', not
 * starting or ending with '-' or '.'. Anything else (a '/', a space, a
 * ':' outside brackets) would be a typo that sends initiators nowhere. */
static bool dns_name_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > ISCSI_REDIRECT_HOST_MAX)
		return false;
	if (s[0] == '-' || s[0] == '.' || s[n - 1] == '-' || s[n - 1] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '.')
			return false;
	return true;
}

/* A decimal number in [lo, hi], nothing else. */
static bool parse_u16(const char *s, size_t len, unsigned lo, unsigned hi, uint16_t *out)
{
	if (len == 0 || len > 5)
		return false;
	unsigned v = 0;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v < lo || v > hi)
		return false;
	*out = (uint16_t)v;
	return true;
}

/* Parses "HOST[:PORT][,TPGT]" into @r (type untouched). */
static bool parse_address(const char *value, struct iscsi_redirect *r)
{
	char host[ISCSI_REDIRECT_HOST_MAX + 1];
	const char *p = value, *host_end;
	size_t host_len;

	r->port = ISCSI_DEFAULT_PORT;
	r->tpgt = 0;
	if (*p == '[') {
		/* [IPv6]: the only form in which a host may hold ':'. */
		host_end = strchr(p, ']');
		if (!host_end)
			return false;
		host_len = (size_t)(host_end - p - 1);
		p++;
		host_end++;
	} else {
		host_len = strcspn(p, ":,");
		host_end = p + host_len;
	}
	if (host_len == 0 || host_len >= sizeof(host))
		return false;
	memcpy(host, p, host_len);
	host[host_len] = '\0';

	const char *q = host_end;
	if (*q == ':') {
		size_t n = strcspn(q + 1, ",");
		if (!parse_u16(q + 1, n, 1, 65535, &r->port))
			return false;
		q += 1 + n;
	}
	if (*q == ',') {
		/* Tag 0 is legal in the RFC, but 0 here means "not given". */
		if (!parse_u16(q + 1, strlen(q + 1), 1, 65535, &r->tpgt))
			return false;
		q += 1 + strlen(q + 1);
	}
	if (*q)
		return false;

	/* Literals are kept canonical, so that the portal the redirect
	 * points at is recognised (iscsi_redirect_login()). */
	unsigned char bin[16];
	r->ipv6 = false;
	if (value[0] == '[') {
		if (inet_pton(AF_INET6, host, bin) != 1)
			return false;
		inet_ntop(AF_INET6, bin, r->host, sizeof(r->host));
		r->ipv6 = true;
	} else if (inet_pton(AF_INET, host, bin) == 1) {
		inet_ntop(AF_INET, bin, r->host, sizeof(r->host));
	} else if (inet_pton(AF_INET6, host, bin) == 1) {
		/* An IPv6 literal without brackets cannot carry a port:
		 * "::1:3260" would be read two ways. */
		return false;
	} else if (dns_name_valid(host)) {
		snprintf(r->host, sizeof(r->host), "%s", host);
	} else {
		return false;
	}
	return true;
}

int iscsi_redirect_parse(void *obj, const struct scst_attr_desc *d, const char *value, char *err,
			 size_t errlen)
{
	struct iscsi_redirect *r = (struct iscsi_redirect *)(void *)((char *)obj + d->offset);
	struct iscsi_redirect parsed = { .type = r->type };

	assert(d->size == sizeof(*r));
	if (*value && !parse_address(value, &parsed)) {
		snprintf(err, errlen,
			 "bad value '%s' for iSCSI target attribute %s: expected ADDRESS[:PORT][,TPGT] "
			 "(an IPv4 address, [IPv6 address] or DNS name; port and tag 1..65535)",
			 value, d->name);
		return -1;
	}
	*r = parsed;
	return 0;
}

int iscsi_redirect_format(const struct iscsi_redirect *r, uint16_t tpgt, char *buf, size_t len)
{
	char tag[8] = "";
	if (tpgt)
		snprintf(tag, sizeof(tag), ",%u", tpgt);
	return snprintf(buf, len, "%s%s%s:%u%s", r->ipv6 ? "[" : "", r->host, r->ipv6 ? "]" : "",
			r->port, tag);
}

void iscsi_redirect_show(const void *obj, const struct scst_attr_desc *d, scst_attr_emit_fn *emit,
			 void *ctx)
{
	const struct iscsi_redirect *r =
		(const struct iscsi_redirect *)(const void *)((const char *)obj + d->offset);
	char buf[ISCSI_REDIRECT_HOST_MAX + 16];

	if (!iscsi_redirect_set(r))
		return;
	iscsi_redirect_format(r, r->tpgt, buf, sizeof(buf));
	emit(ctx, d->name, buf);
}

void iscsi_redirect_send_targets_address(const struct iscsi_redirect *r, const char *local,
					 uint16_t own_tpgt, char *buf, size_t len)
{
	if (iscsi_redirect_set(r) && r->type == ISCSI_REDIRECT_PERMANENT)
		iscsi_redirect_format(r, r->tpgt ? r->tpgt : own_tpgt, buf, len);
	else
		snprintf(buf, len, "%s,%u", local, own_tpgt);
}

bool iscsi_redirect_login(struct iscsi_conn *conn, const uint8_t *req, uint32_t cmd_sn,
			  const char *initiator, const char *target)
{
	const struct iscsi_redirect *r = &conn->tp.redirect;
	char addr[ISCSI_REDIRECT_HOST_MAX + 16];

	if (!iscsi_redirect_set(r))
		return false;
	/* RFC 7143 13.8: a TargetAddress in a redirecting Login Response
	 * carries no portal group tag. */
	iscsi_redirect_format(r, 0, addr, sizeof(addr));
	/* The portal the redirect points at serves the login: one daemon
	 * may listen there too (a second address of this node, or one
	 * initiators reach through a NAT: --listen LOCAL=ADVERTISED), and
	 * redirecting again would send the initiator round in a loop. */
	if (strcmp(addr, conn->local) == 0 || iscsi_portal_reached_at(conn->local, addr))
		return false;

	struct iscsi_text text = { 0 };
	iscsi_text_add(&text, "TargetAddress", addr);
	struct iscsi_tx_pdu *pdu = iscsi_tx_alloc();
	if (text.oom || !pdu) {
		iscsi_text_free(&text);
		free(pdu);
		iscsi_conn_close(conn, "out of memory");
		return true;
	}
	bool permanent = r->type == ISCSI_REDIRECT_PERMANENT;
	unsigned status = permanent ? STATUS_MOVED_PERMANENTLY : STATUS_MOVED_TEMPORARILY;
	uint8_t *bhs = pdu->hdr;
	/* T=0 and the request's stage: the login goes no further. */
	pdu_init(bhs, ISCSI_OP_LOGIN_RSP, (uint8_t)(req[1] & (3u << 2)));
	memcpy(bhs + 8, req + 8, 6); /* ISID; TSIH 0: no session */
	put_be32(bhs + ISCSI_OFF_ITT, pdu_itt(req));
	put_be32(bhs + ISCSI_OFF_STATSN, conn->stat_sn);
	put_be32(bhs + ISCSI_OFF_EXPCMDSN, cmd_sn);
	put_be32(bhs + ISCSI_OFF_MAXCMDSN, cmd_sn + conn->tp.queued_cmds - 1);
	bhs[36] = (uint8_t)(status >> 8);
	bhs[37] = (uint8_t)status;
	/* The text is handed over whole: the PDU frees it once sent. */
	pdu->owned = (uint8_t *)text.data;
	pdu->data = pdu->owned;
	pdu->data_len = (uint32_t)text.len;
	pdu->close_after = true;
	pdu->close_why = "login redirected";
	log_info_rl("login: redirected %s (%s): login to target %s moved %s to %s "
		    "(status 0x%04x)",
		    conn->peer, initiator, target, permanent ? "permanently" : "temporarily", addr,
		    status);
	iscsi_conn_queue(conn, pdu, TX_SN_STATUS);
	/* Like an answered Logout: nothing more is read (a further Login
	 * Request must not carry the login on), and the close that follows
	 * the response is no error. */
	conn->phase = CONN_LOGGED_OUT;
	return true;
}
