/* The initiator side of the reservation tests: see pr_client.h. */
#include "pr_client.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *pr_portal;
static int checks, failures;

void pr_check(bool ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs(ok ? "ok: " : "FAIL: ", stdout);
	vprintf(fmt, ap);
	putchar('\n');
	va_end(ap);
	fflush(stdout);
	checks++;
	failures += !ok;
}

int pr_summary(const char *program)
{
	printf("%s: %d checks, %d failed\n", program, checks, failures);
	printf("%s\n", failures ? "FAILED" : "all checks passed");
	return failures ? 1 : 0;
}

bool nexus_login(struct nexus *n, const char *label, const char *initiator, const char *target,
		 uint16_t rel_tgt_id, uint32_t isid_rnd, uint16_t isid_qual)
{
	memset(n, 0, sizeof(*n));
	snprintf(n->label, sizeof(n->label), "%s", label);
	n->initiator = initiator;
	n->target = target;
	n->rel_tgt_id = rel_tgt_id;
	n->isid_rnd = isid_rnd & 0xffffff;
	n->isid_qual = isid_qual;
	n->c = iscsi_create_context(initiator);
	if (!n->c) {
		pr_check(false, "%s: cannot create a libiscsi context", label);
		return false;
	}
	iscsi_set_isid_random(n->c, n->isid_rnd, n->isid_qual);
	iscsi_set_targetname(n->c, target);
	iscsi_set_session_type(n->c, ISCSI_SESSION_NORMAL);
	iscsi_set_header_digest(n->c, ISCSI_HEADER_DIGEST_NONE);
	/* A test that hangs fails through its script's timeout; a command
	 * the target never answers must not hang libiscsi forever. */
	iscsi_set_timeout(n->c, 30);
	if (iscsi_full_connect_sync(n->c, pr_portal, 0) != 0) {
		pr_check(false, "%s (%s) logs in to %s: %s", label, initiator, target,
			 iscsi_get_error(n->c));
		iscsi_destroy_context(n->c);
		n->c = NULL;
		return false;
	}
	/* A new nexus starts with POWER ON: collect it here so that every
	 * unit attention a test looks for is one it caused. */
	char uas[128];

	collect_uas(n, uas, sizeof(uas));
	return true;
}

void nexus_logout(struct nexus *n)
{
	if (!n->c)
		return;
	iscsi_logout_sync(n->c);
	iscsi_destroy_context(n->c);
	n->c = NULL;
}

void nexus_drop(struct nexus *n)
{
	if (!n->c)
		return;
	iscsi_destroy_context(n->c);
	n->c = NULL;
}

void send_cdb(struct nexus *n, const uint8_t *cdb, int cdb_len, int dir, const void *out,
	      int out_len, int in_len, struct result *r)
{
	send_lun_cdb(n, 0, cdb, cdb_len, dir, out, out_len, in_len, r);
}

void send_lun_cdb(struct nexus *n, int lun, const uint8_t *cdb, int cdb_len, int dir,
		  const void *out, int out_len, int in_len, struct result *r)
{
	struct scsi_task *t;
	struct iscsi_data d = { .size = (size_t)out_len, .data = (unsigned char *)out };

	memset(r, 0, offsetof(struct result, data));
	r->status = -1;
	r->len = 0;
	if (!n->c)
		return;
	t = scsi_create_task(cdb_len, (unsigned char *)cdb, dir,
			     dir == SCSI_XFER_WRITE ? out_len : dir == SCSI_XFER_READ ? in_len : 0);
	if (!t)
		return;
	if (!iscsi_scsi_command_sync(n->c, lun, t, dir == SCSI_XFER_WRITE ? &d : NULL)) {
		scsi_free_scsi_task(t);
		return;
	}
	r->status = t->status;
	if (t->status == SCSI_STATUS_CHECK_CONDITION) {
		r->sense_key = t->sense.key;
		r->asc = (t->sense.ascq >> 8) & 0xff;
		r->ascq = t->sense.ascq & 0xff;
		r->sks_valid = t->sense.sense_specific;
		r->cd = t->sense.ill_param_in_cdb;
		r->bpv = t->sense.bit_pointer_valid;
		r->bit = t->sense.bit_pointer;
		r->field = t->sense.field_pointer;
	}
	if (t->status == SCSI_STATUS_GOOD && t->datain.size > 0) {
		r->len = t->datain.size < (int)sizeof(r->data) ? t->datain.size
							       : (int)sizeof(r->data);
		memcpy(r->data, t->datain.data, (size_t)r->len);
	}
	scsi_free_scsi_task(t);
}

const char *describe(const struct result *r)
{
	static char buf[64];

	switch (r->status) {
	case -1:
		return "no response";
	case SCSI_STATUS_GOOD:
		return "GOOD";
	case SCSI_STATUS_RESERVATION_CONFLICT:
		return "RESERVATION CONFLICT";
	case SCSI_STATUS_TASK_ABORTED:
		return "TASK ABORTED";
	case SCSI_STATUS_BUSY:
		return "BUSY";
	case SCSI_STATUS_CHECK_CONDITION:
		snprintf(buf, sizeof(buf), "CHECK CONDITION %X/%02X/%02X", r->sense_key, r->asc,
			 r->ascq);
		return buf;
	default:
		snprintf(buf, sizeof(buf), "status 0x%02x", r->status);
		return buf;
	}
}

const char *describe_pointer(const struct result *r)
{
	static char buf[64];

	if (r->status != SCSI_STATUS_CHECK_CONDITION || !r->sks_valid)
		return "no field pointer";
	if (r->bpv)
		snprintf(buf, sizeof(buf), "%s byte %u bit %d", r->cd ? "CDB" : "parameter list",
			 r->field, r->bit);
	else
		snprintf(buf, sizeof(buf), "%s byte %u", r->cd ? "CDB" : "parameter list",
			 r->field);
	return buf;
}

bool expect(const struct result *r, const char *want, const char *fmt, ...)
{
	char what[512];
	va_list ap;
	const char *got = describe(r);
	bool ok = strcmp(got, want) == 0;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (ok)
		pr_check(true, "%s: %s", what, got);
	else
		pr_check(false, "%s: got %s (%s), expected %s", what, got, describe_pointer(r),
			 want);
	return ok;
}

bool expect_pointer(const struct result *r, bool cd, unsigned field, int bit, const char *what)
{
	bool ok = r->status == SCSI_STATUS_CHECK_CONDITION && r->sks_valid && r->cd == cd &&
		  r->field == field && (bit < 0 || (r->bpv && r->bit == bit));
	char want[64];

	if (bit >= 0)
		snprintf(want, sizeof(want), "%s byte %u bit %d", cd ? "CDB" : "parameter list",
			 field, bit);
	else
		snprintf(want, sizeof(want), "%s byte %u", cd ? "CDB" : "parameter list", field);
	pr_check(ok, "%s: field pointer %s%s%s", what, describe_pointer(r), ok ? "" : ", expected ",
		 ok ? "" : want);
	return ok;
}

void tur(struct nexus *n, struct result *r)
{
	static const uint8_t cdb[6] = { 0x00 };

	send_cdb(n, cdb, 6, SCSI_XFER_NONE, NULL, 0, 0, r);
}

void collect_uas(struct nexus *n, char *out, size_t len)
{
	struct result r;

	out[0] = '\0';
	for (int i = 0; i < 16; i++) {
		tur(n, &r);
		if (r.status == SCSI_STATUS_CHECK_CONDITION &&
		    r.sense_key == SCSI_SENSE_UNIT_ATTENTION) {
			size_t used = strlen(out);

			snprintf(out + used, len - used, "%s%02X/%02X", used ? " " : "", r.asc,
				 r.ascq);
			continue;
		}
		if (r.status != SCSI_STATUS_GOOD) {
			size_t used = strlen(out);

			snprintf(out + used, len - used, "%s(TUR: %s)", used ? " " : "",
				 describe(&r));
		}
		return;
	}
}

bool expect_uas(struct nexus *n, const char *want, const char *what)
{
	char got[256];

	collect_uas(n, got, sizeof(got));
	bool ok = strcmp(got, want) == 0;

	pr_check(ok, "%s: %s's unit attentions [%s]%s%s%s", what, n->label, got,
		 ok ? "" : ", expected [", ok ? "" : want, ok ? "" : "]");
	return ok;
}

void read10(struct nexus *n, uint32_t lba, uint16_t blocks, struct result *r)
{
	uint8_t cdb[10] = { 0x28, 0, (uint8_t)(lba >> 24), (uint8_t)(lba >> 16),
			    (uint8_t)(lba >> 8), (uint8_t)lba, 0, (uint8_t)(blocks >> 8),
			    (uint8_t)blocks, 0 };

	send_cdb(n, cdb, 10, SCSI_XFER_READ, NULL, 0, blocks * 512, r);
}

void write10(struct nexus *n, uint32_t lba, uint16_t blocks, uint8_t fill, struct result *r)
{
	uint8_t cdb[10] = { 0x2a, 0, (uint8_t)(lba >> 24), (uint8_t)(lba >> 16),
			    (uint8_t)(lba >> 8), (uint8_t)lba, 0, (uint8_t)(blocks >> 8),
			    (uint8_t)blocks, 0 };
	unsigned char *buf = malloc((size_t)blocks * 512);

	memset(buf, fill, (size_t)blocks * 512);
	send_cdb(n, cdb, 10, SCSI_XFER_WRITE, buf, blocks * 512, 0, r);
	free(buf);
}

void inquiry(struct nexus *n, struct result *r)
{
	static const uint8_t cdb[6] = { 0x12, 0, 0, 0, 96, 0 };

	send_cdb(n, cdb, 6, SCSI_XFER_READ, NULL, 0, 96, r);
}

void read_capacity10(struct nexus *n, struct result *r)
{
	static const uint8_t cdb[10] = { 0x25 };

	send_cdb(n, cdb, 10, SCSI_XFER_READ, NULL, 0, 8, r);
}

void mode_sense6(struct nexus *n, struct result *r)
{
	static const uint8_t cdb[6] = { 0x1a, 0, 0x3f, 0, 255, 0 };

	send_cdb(n, cdb, 6, SCSI_XFER_READ, NULL, 0, 255, r);
}

void report_luns(struct nexus *n, struct result *r)
{
	static const uint8_t cdb[12] = { 0xa0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0 };

	send_cdb(n, cdb, 12, SCSI_XFER_READ, NULL, 0, 4096, r);
}

void request_sense(struct nexus *n, struct result *r)
{
	static const uint8_t cdb[6] = { 0x03, 0, 0, 0, 252, 0 };

	send_cdb(n, cdb, 6, SCSI_XFER_READ, NULL, 0, 252, r);
}

const char *type_name(int type)
{
	switch (type) {
	case WE: return "WE";
	case EA: return "EA";
	case WERO: return "WERO";
	case EARO: return "EARO";
	case WEAR: return "WEAR";
	case EAAR: return "EAAR";
	default: return "type?";
	}
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

uint64_t be64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

uint16_t be16(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

void prout_raw(struct nexus *n, int sa, uint8_t scope_type, uint32_t pll, const uint8_t *param,
	       int param_len, struct result *r)
{
	uint8_t cdb[10] = { 0x5f, (uint8_t)(sa & 0x1f), scope_type, 0, 0, 0, 0, 0, 0, 0 };

	put32(cdb + 5, pll);
	send_cdb(n, cdb, 10, param_len ? SCSI_XFER_WRITE : SCSI_XFER_NONE, param, param_len, 0, r);
}

void prout(struct nexus *n, int sa, int type, uint64_t key, uint64_t sark, uint8_t flags,
	   const uint8_t *tids, int tids_len, struct result *r)
{
	uint8_t p[1024];
	int len = 24;

	memset(p, 0, sizeof(p));
	put64(p, key);
	put64(p + 8, sark);
	p[20] = flags;
	if (flags & PR_SPEC_I_PT) {
		put32(p + 24, (uint32_t)tids_len);
		memcpy(p + 28, tids, (size_t)tids_len);
		len = 28 + tids_len;
	}
	prout_raw(n, sa, (uint8_t)(type & 0x0f), (uint32_t)len, p, len, r);
}

void prout_move(struct nexus *n, int type, uint64_t key, uint64_t sark, bool unreg, bool aptpl,
		uint16_t rel_tgt_id, const uint8_t *tid, int tid_len, struct result *r)
{
	uint8_t p[512];

	memset(p, 0, sizeof(p));
	put64(p, key);
	put64(p + 8, sark);
	p[17] = (uint8_t)((unreg ? 0x02 : 0) | (aptpl ? 0x01 : 0));
	p[18] = (uint8_t)(rel_tgt_id >> 8);
	p[19] = (uint8_t)rel_tgt_id;
	put32(p + 20, (uint32_t)tid_len);
	memcpy(p + 24, tid, (size_t)tid_len);
	prout_raw(n, PRO_REGISTER_AND_MOVE, (uint8_t)(type & 0x0f), (uint32_t)(24 + tid_len), p,
		  24 + tid_len, r);
}

void prin(struct nexus *n, int sa, uint16_t alloc_len, struct result *r)
{
	uint8_t cdb[10] = { 0x5e, (uint8_t)(sa & 0x1f), 0, 0, 0, 0, 0,
			    (uint8_t)(alloc_len >> 8), (uint8_t)alloc_len, 0 };

	send_cdb(n, cdb, 10, SCSI_XFER_READ, NULL, 0, alloc_len, r);
}

int transport_id(uint8_t *buf, const char *name, const struct nexus *isid_of)
{
	char s[256];
	int n, len;

	if (isid_of)
		n = snprintf(s, sizeof(s), "%s,i,0x%02x%06x%04x", name, 0x80, isid_of->isid_rnd,
			     isid_of->isid_qual);
	else
		n = snprintf(s, sizeof(s), "%s", name);
	/* NUL-terminated, padded to a multiple of 4 (at least 20 bytes of
	 * name: SPC-4 7.6.4.6). */
	len = (n + 1 + 3) & ~3;
	if (len < 20)
		len = 20;
	memset(buf, 0, (size_t)(4 + len));
	buf[0] = (uint8_t)((isid_of ? 0x40 : 0x00) | 0x05);
	buf[2] = (uint8_t)(len >> 8);
	buf[3] = (uint8_t)len;
	memcpy(buf + 4, s, (size_t)n);
	return 4 + len;
}

void pr_state_read(struct nexus *n, struct pr_state *s)
{
	struct result r;

	memset(s, 0, sizeof(*s));
	s->ok = true;
	prin(n, PRI_READ_KEYS, 8192, &r);
	if (r.status != SCSI_STATUS_GOOD || r.len < 8) {
		s->ok = false;
		return;
	}
	s->generation = be32(r.data);
	uint32_t alen = be32(r.data + 4);

	for (uint32_t off = 0; off + 8 <= alen && 8 + off + 8 <= (uint32_t)r.len && s->nkeys < 32;
	     off += 8)
		s->keys[s->nkeys++] = be64(r.data + 8 + off);

	prin(n, PRI_READ_RESERVATION, 8192, &r);
	if (r.status != SCSI_STATUS_GOOD || r.len < 8) {
		s->ok = false;
		return;
	}
	if (be32(r.data + 4) >= 16 && r.len >= 24) {
		s->reserved = true;
		s->res_key = be64(r.data + 8);
		s->res_scope = r.data[21] >> 4;
		s->res_type = r.data[21] & 0x0f;
	}

	prin(n, PRI_READ_FULL_STATUS, 16000, &r);
	if (r.status != SCSI_STATUS_GOOD || r.len < 8) {
		s->ok = false;
		return;
	}
	alen = be32(r.data + 4);
	for (uint32_t off = 8; off + 24 <= 8 + alen && off + 24 <= (uint32_t)r.len &&
			       s->nentries < 32;) {
		const unsigned char *d = r.data + off;
		struct full_status_entry *e = &s->e[s->nentries++];
		uint32_t dlen = be32(d + 20);

		e->key = be64(d);
		e->all_tg_pt = d[12] & 0x02;
		e->r_holder = d[12] & 0x01;
		e->scope = d[13] >> 4;
		e->type = d[13] & 0x0f;
		e->rel_tgt_id = be16(d + 18);
		if (dlen >= 4 && off + 24 + dlen <= (uint32_t)r.len) {
			const unsigned char *t = d + 24;
			unsigned tlen = be16(t + 2);
			char str[256];

			e->format = t[0] >> 6;
			e->protocol = t[0] & 0x0f;
			if (tlen > dlen - 4)
				tlen = dlen - 4;
			if (tlen > sizeof(str) - 1)
				tlen = sizeof(str) - 1;
			memcpy(str, t + 4, tlen);
			str[tlen] = '\0';
			char *sep = strstr(str, ",i,0x");

			if (sep) {
				snprintf(e->isid, sizeof(e->isid), "%s", sep + 5);
				*sep = '\0';
			}
			snprintf(e->name, sizeof(e->name), "%s", str);
		} else {
			s->ok = false;
		}
		off += 24 + dlen;
	}
}

void pr_state_format(const struct pr_state *s, char *out, size_t len)
{
	size_t used;

	if (!s->ok) {
		snprintf(out, len, "(PR IN failed)");
		return;
	}
	snprintf(out, len, "gen %u; keys", s->generation);
	for (int i = 0; i < s->nkeys; i++) {
		used = strlen(out);
		snprintf(out + used, len - used, " %llx", (unsigned long long)s->keys[i]);
	}
	used = strlen(out);
	if (s->reserved)
		snprintf(out + used, len - used, "; reservation %s key %llx scope %d",
			 type_name(s->res_type), (unsigned long long)s->res_key, s->res_scope);
	else
		snprintf(out + used, len - used, "; no reservation");
	for (int i = 0; i < s->nentries; i++) {
		const struct full_status_entry *e = &s->e[i];

		used = strlen(out);
		snprintf(out + used, len - used, "; [%llx %s%s%s/%d rtpi %u %s,%s]",
			 (unsigned long long)e->key, e->all_tg_pt ? "ALL_TG_PT " : "",
			 e->r_holder ? "R_HOLDER " : "", e->r_holder ? type_name(e->type) : "-",
			 e->scope, e->rel_tgt_id, e->name, e->isid);
	}
}

const struct full_status_entry *pr_entry_of(const struct pr_state *s, const struct nexus *m)
{
	char isid[16];

	snprintf(isid, sizeof(isid), "%02x%06x%04x", 0x80, m->isid_rnd, m->isid_qual);
	for (int i = 0; i < s->nentries; i++) {
		const struct full_status_entry *e = &s->e[i];

		if (strcmp(e->name, m->initiator) == 0 && strcasecmp(e->isid, isid) == 0 &&
		    (e->all_tg_pt || e->rel_tgt_id == m->rel_tgt_id))
			return e;
	}
	return NULL;
}

uint32_t pr_generation(struct nexus *n)
{
	struct result r;

	prin(n, PRI_READ_KEYS, 8, &r);
	if (r.status != SCSI_STATUS_GOOD || r.len < 4)
		return 0xdeadbeef;
	return be32(r.data);
}
