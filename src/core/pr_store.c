/* The APTPL state file (pr_store.h; the format is docs/pr_state_file.md).
 *
 * The file is the last state a PERSISTENT RESERVE OUT completed with, or
 * the one it was about to complete with: a save replaces the file with
 * rename(), so a crash leaves the old file or the new one, never a mix.
 * The decoder trusts nothing of what it reads: the file may be damaged,
 * from another program, or written by a later version. */
#include "core/pr_store.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/bytes.h"
#include "base/crc32c.h"
#include "base/list.h"
#include "base/log.h"
#include "core/pr_rules.h"
#include "core/scst.h"
#include "core/state_file.h"

/* Offsets of the header (docs/pr_state_file.md). SCST's version 1 ends
 * its header at PR_OFF_V1_END; version 2 adds the generation and the
 * number of registrants. */
enum {
	PR_OFF_SIGNATURE = 0,
	PR_OFF_VERSION = 8,
	PR_OFF_APTPL = 16,
	PR_OFF_RESERVED = 17,
	PR_OFF_TYPE = 18,
	PR_OFF_SCOPE = 19,
	PR_OFF_V1_END = 20,
	PR_OFF_GENERATION = 20,
	PR_OFF_COUNT = 24,
	PR_HEADER_SIZE = 28,
	PR_CRC_SIZE = 4,
};

/* A registrant record: is_holder, the TransportID, the key, rel_tgt_id,
 * and (version 2) the flags byte. */
#define PR_RECORD_FIXED (1 + 8 + 2 + 1)
#define PR_FLAG_ALL_TG_PT 0x01u
/* The TransportID of every protocol but iSCSI has 24 bytes (SPC-4
 * 7.6.4: FCP, SRP, SAS). */
#define PR_TID_FIXED_SIZE 24

static inline void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t get_le64(const uint8_t *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

/* WEAR and EAAR are held by every registrant: no single holder. */
/* The size a TransportID at @p says it has, given @avail bytes there;
 * 0 with @why when it is not one we accept. iSCSI's (SPC-4 7.6.4.6)
 * carries its ADDITIONAL LENGTH, a multiple of four, and a NUL-terminated
 * name (FORMAT CODE 00b) or name ",i,0x" ISID (01b); the others are 24
 * bytes. */
static size_t tid_size(const uint8_t *p, size_t avail, char *why, size_t whylen)
{
	unsigned proto, format;
	size_t size;

	if (avail < 4) {
		snprintf(why, whylen, "TransportID header cut short (%zu of 4 bytes)", avail);
		return 0;
	}
	proto = p[0] & 0x0f;
	format = p[0] >> 6;
	if (p[0] & 0x30) {
		snprintf(why, whylen, "TransportID byte 0 has reserved bits set (0x%02x)", p[0]);
		return 0;
	}
	if (proto != SCST_PROTOCOL_ISCSI) {
		if (proto != SCST_PROTOCOL_FCP && proto != SCST_PROTOCOL_SRP &&
		    proto != SCST_PROTOCOL_SAS) {
			snprintf(why, whylen, "TransportID of unknown protocol identifier 0x%x",
				 proto);
			return 0;
		}
		if (format) {
			snprintf(why, whylen,
				 "TransportID of protocol 0x%x with format code %u (only 0 exists)",
				 proto, format);
			return 0;
		}
		if (avail < PR_TID_FIXED_SIZE) {
			snprintf(why, whylen, "TransportID cut short (%zu of %d bytes)", avail,
				 PR_TID_FIXED_SIZE);
			return 0;
		}
		return PR_TID_FIXED_SIZE;
	}
	if (format > 1) {
		snprintf(why, whylen, "iSCSI TransportID with format code %u (only 0 and 1 exist)",
			 format);
		return 0;
	}
	size = 4 + (size_t)get_be16(p + 2);
	if (size > SCST_TRANSPORT_ID_MAX || size < 8 || size % 4) {
		snprintf(why, whylen,
			 "iSCSI TransportID length %zu (ADDITIONAL LENGTH %u) is not a multiple of 4 "
			 "in 8..%d",
			 size, get_be16(p + 2), SCST_TRANSPORT_ID_MAX);
		return 0;
	}
	if (size > avail) {
		snprintf(why, whylen, "iSCSI TransportID of %zu bytes cut short at %zu", size,
			 avail);
		return 0;
	}
	if (!memchr(p + 4, '\0', size - 4) || p[4] == '\0') {
		snprintf(why, whylen, "iSCSI TransportID without a NUL-terminated name");
		return 0;
	}
	if (format == 1 && !strstr((const char *)p + 4, ",i,0x")) {
		snprintf(why, whylen, "iSCSI TransportID of format 01b without \",i,0x\" ISID");
		return 0;
	}
	return size;
}

static size_t record_size(const struct scst_pr_registrant *reg)
{
	return PR_RECORD_FIXED + reg->transport_id_len;
}

size_t pr_store_encoded_size(const struct scst_pr *pr)
{
	const struct scst_pr_registrant *reg;
	size_t size = PR_HEADER_SIZE + PR_CRC_SIZE;

	list_for_each_entry(reg, &pr->registrants, entry)
		size += record_size(reg);
	return size;
}

/* A state the decoder would refuse must never be written: it would be
 * lost at the next start, silently. */
static void assert_consistent(const struct scst_pr *pr)
{
#ifndef NDEBUG
	const struct scst_pr_registrant *reg;
	bool holder_found = false;
	unsigned n = 0;
	char why[128];

	list_for_each_entry(reg, &pr->registrants, entry) {
		assert(reg->key != 0);
		assert(reg->transport_id_len <= SCST_TRANSPORT_ID_MAX);
		assert(tid_size(reg->transport_id, reg->transport_id_len, why, sizeof(why)) ==
		       reg->transport_id_len);
		holder_found |= reg == pr->holder;
		n++;
	}
	assert(n == pr->nregistrants);
	if (pr->reserved) {
		assert(scst_pr_type_valid(pr->type) && pr->scope == SCST_PR_SCOPE_LU);
		assert(scst_pr_type_all_registrants(pr->type) ? !pr->holder : holder_found);
		assert(n > 0);
	} else {
		assert(!pr->holder);
	}
#endif
}

void pr_store_encode_into(const struct scst_pr *pr, uint8_t *buf)
{
	const struct scst_pr_registrant *reg;
	size_t pos = PR_HEADER_SIZE;

	assert_consistent(pr);
	put_le64(buf + PR_OFF_SIGNATURE, PR_STORE_SIGNATURE);
	put_le64(buf + PR_OFF_VERSION, PR_STORE_VERSION);
	buf[PR_OFF_APTPL] = pr->aptpl;
	buf[PR_OFF_RESERVED] = pr->reserved;
	/* Without a reservation SCST writes whatever type and scope it last
	 * had; we write zeros, and the version 2 decoder insists on them. */
	buf[PR_OFF_TYPE] = pr->reserved ? pr->type : 0;
	buf[PR_OFF_SCOPE] = pr->reserved ? pr->scope : 0;
	put_le32(buf + PR_OFF_GENERATION, pr->generation);
	put_le32(buf + PR_OFF_COUNT, pr->nregistrants);
	list_for_each_entry(reg, &pr->registrants, entry) {
		buf[pos++] = reg == pr->holder;
		memcpy(buf + pos, reg->transport_id, reg->transport_id_len);
		pos += reg->transport_id_len;
		/* SCST keeps the key as it came in the parameter list. */
		put_be64(buf + pos, reg->key);
		pos += 8;
		put_le16(buf + pos, reg->rel_tgt_id);
		pos += 2;
		buf[pos++] = reg->all_tg_pt ? PR_FLAG_ALL_TG_PT : 0;
	}
	put_le32(buf + pos, crc32c(buf, pos));
	assert(pos + PR_CRC_SIZE == pr_store_encoded_size(pr));
}

int pr_store_encode(const struct scst_pr *pr, uint8_t **bytes, size_t *len)
{
	size_t size = pr_store_encoded_size(pr);
	uint8_t *buf = malloc(size);

	if (!buf)
		return -ENOMEM;
	pr_store_encode_into(pr, buf);
	*bytes = buf;
	*len = size;
	return 0;
}

static void pr_init_empty(struct scst_pr *pr)
{
	memset(pr, 0, sizeof(*pr));
	list_init(&pr->registrants);
}

void pr_store_release(struct scst_pr *pr)
{
	struct scst_pr_registrant *reg, *tmp;

	list_for_each_entry_safe(reg, tmp, &pr->registrants, entry) {
		list_del(&reg->entry);
		free(reg);
	}
	pr_init_empty(pr);
}

bool pr_store_wanted(const struct scst_pr *pr)
{
	return pr->aptpl && pr->nregistrants > 0;
}

static bool same_nexus(const struct scst_pr_registrant *a, const struct scst_pr_registrant *b)
{
	return a->rel_tgt_id == b->rel_tgt_id && a->transport_id_len == b->transport_id_len &&
	       !memcmp(a->transport_id, b->transport_id, a->transport_id_len);
}

#define REFUSE(...)                                        \
	do {                                               \
		snprintf(err, errlen, __VA_ARGS__);        \
		goto refused;                              \
	} while (0)

int pr_store_decode(const uint8_t *buf, size_t len, struct scst_pr *pr, char *err, size_t errlen)
{
	struct scst_pr_registrant *reg, *other;
	uint64_t signature, version;
	size_t pos, end, min_size;
	unsigned nholders = 0, index = 0;
	uint32_t count = 0;
	char why[160];
	bool v2;

	pr_init_empty(pr);
	if (len < PR_OFF_VERSION + 8)
		REFUSE("file of %zu bytes is too short for a signature and a version", len);
	signature = get_le64(buf + PR_OFF_SIGNATURE);
	if (signature != PR_STORE_SIGNATURE)
		REFUSE("signature 0x%016llx is not a PR state file's (0x%016llx)",
		       (unsigned long long)signature, (unsigned long long)PR_STORE_SIGNATURE);
	version = get_le64(buf + PR_OFF_VERSION);
	if (version != PR_STORE_VERSION && version != PR_STORE_VERSION_SCST)
		REFUSE("unknown version %llu (this uscstd reads versions %d and %d)",
		       (unsigned long long)version, PR_STORE_VERSION_SCST, PR_STORE_VERSION);
	v2 = version == PR_STORE_VERSION;
	min_size = v2 ? PR_HEADER_SIZE + PR_CRC_SIZE : PR_OFF_V1_END;
	if (len < min_size)
		REFUSE("version %llu file of %zu bytes is shorter than its %zu-byte header",
		       (unsigned long long)version, len, min_size);
	end = len;
	if (v2) {
		uint32_t stored, computed;

		end = len - PR_CRC_SIZE;
		stored = get_le32(buf + end);
		computed = crc32c(buf, end);
		if (stored != computed)
			REFUSE("CRC32C 0x%08x at byte %zu does not match the content's 0x%08x "
			       "(damaged or cut short)",
			       stored, end, computed);
	}
	if (buf[PR_OFF_APTPL] > 1 || buf[PR_OFF_RESERVED] > 1)
		REFUSE("byte %d (APTPL) or %d (reservation present) is not 0 or 1 (0x%02x, 0x%02x)",
		       PR_OFF_APTPL, PR_OFF_RESERVED, buf[PR_OFF_APTPL], buf[PR_OFF_RESERVED]);
	pr->aptpl = buf[PR_OFF_APTPL];
	pr->reserved = buf[PR_OFF_RESERVED];
	if (pr->reserved) {
		if (!scst_pr_type_valid(buf[PR_OFF_TYPE]))
			REFUSE("byte %d: reservation type 0x%02x is not one of SPC-4's six",
			       PR_OFF_TYPE, buf[PR_OFF_TYPE]);
		if (buf[PR_OFF_SCOPE] != SCST_PR_SCOPE_LU)
			REFUSE("byte %d: reservation scope 0x%02x is not LU_SCOPE (0)",
			       PR_OFF_SCOPE, buf[PR_OFF_SCOPE]);
		pr->type = buf[PR_OFF_TYPE];
		pr->scope = buf[PR_OFF_SCOPE];
	} else if (v2 && (buf[PR_OFF_TYPE] || buf[PR_OFF_SCOPE])) {
		/* SCST leaves stale values here; our writer never does. */
		REFUSE("bytes %d-%d: type 0x%02x and scope 0x%02x without a reservation",
		       PR_OFF_TYPE, PR_OFF_SCOPE, buf[PR_OFF_TYPE], buf[PR_OFF_SCOPE]);
	}
	pos = PR_OFF_V1_END;
	if (v2) {
		pr->generation = get_le32(buf + PR_OFF_GENERATION);
		count = get_le32(buf + PR_OFF_COUNT);
		pos = PR_HEADER_SIZE;
	}

	while (pos < end) {
		size_t start = pos, tlen;

		if (v2 && index == count)
			REFUSE("%zu bytes at byte %zu after the %u registrants the header counts",
			       end - pos, pos, count);
		if (buf[pos] > 1)
			REFUSE("registrant %u at byte %zu: holder byte 0x%02x is not 0 or 1", index,
			       start, buf[pos]);
		tlen = tid_size(buf + pos + 1, end - pos - 1, why, sizeof(why));
		if (!tlen)
			REFUSE("registrant %u at byte %zu: %s", index, start, why);
		if (end - pos < PR_RECORD_FIXED - (v2 ? 0 : 1) + tlen)
			REFUSE("registrant %u at byte %zu: record cut short (%zu bytes left, %zu "
			       "needed)",
			       index, start, end - pos, PR_RECORD_FIXED - (v2 ? 0 : 1) + tlen);
		reg = calloc(1, sizeof(*reg));
		if (!reg)
			REFUSE("out of memory for registrant %u", index);
		list_add_tail(&reg->entry, &pr->registrants);
		pr->nregistrants++;
		if (buf[pos++]) {
			nholders++;
			pr->holder = reg;
		}
		memcpy(reg->transport_id, buf + pos, tlen);
		reg->transport_id_len = (unsigned)tlen;
		pos += tlen;
		reg->key = get_be64(buf + pos);
		pos += 8;
		reg->rel_tgt_id = get_le16(buf + pos);
		pos += 2;
		if (v2) {
			if (buf[pos] & ~PR_FLAG_ALL_TG_PT)
				REFUSE("registrant %u at byte %zu: unknown flags 0x%02x", index,
				       start, buf[pos]);
			reg->all_tg_pt = buf[pos] & PR_FLAG_ALL_TG_PT;
			pos++;
		}
		if (reg->key == 0)
			REFUSE("registrant %u at byte %zu: reservation key 0 (that unregisters)",
			       index, start);
		list_for_each_entry(other, &pr->registrants, entry)
			if (other != reg && same_nexus(other, reg))
				REFUSE("registrant %u at byte %zu: its I_T nexus is registered twice",
				       index, start);
		index++;
	}
	if (v2 && index != count)
		REFUSE("the header counts %u registrants, the file has %u", count, index);

	if (!pr->reserved) {
		if (nholders)
			REFUSE("a registrant is marked holder but there is no reservation");
	} else if (!pr->nregistrants) {
		REFUSE("a reservation of type %s without any registrant",
		       scst_pr_type_name(pr->type));
	} else if (scst_pr_type_all_registrants(pr->type)) {
		/* Every registrant holds it. SCST may mark one of them; we
		 * never do. */
		if (v2 && nholders)
			REFUSE("type %s is held by all registrants, yet one is marked holder",
			       scst_pr_type_name(pr->type));
		pr->holder = NULL;
	} else if (nholders != 1) {
		REFUSE("a reservation of type %s needs exactly one holder among the registrants, "
		       "the file marks %u",
		       scst_pr_type_name(pr->type), nholders);
	}
	return 0;

refused:
	pr_store_release(pr);
	return -1;
}

#undef REFUSE

int pr_store_check_name(const char *dev_name, char *err, size_t errlen)
{
	size_t n = strlen(dev_name);

	if (!n || !strcmp(dev_name, ".") || !strcmp(dev_name, "..") || strchr(dev_name, '/')) {
		snprintf(err, errlen,
			 "device name '%s' cannot name its PR state file (empty, \".\", \"..\" or "
			 "containing '/')",
			 dev_name);
		return -1;
	}
	if (n > PR_STORE_MAX_NAME) {
		snprintf(err, errlen,
			 "device name '%.40s...' (%zu bytes) is too long for its PR state file (at "
			 "most %d)",
			 dev_name, n, PR_STORE_MAX_NAME);
		return -1;
	}
	return 0;
}

/* A TransportID as text: an iSCSI one by its name string, the others in
 * hex. */
static void print_tid(FILE *out, const struct scst_pr_registrant *reg)
{
	const uint8_t *t = reg->transport_id;

	if ((t[0] & 0x0f) == SCST_PROTOCOL_ISCSI && reg->transport_id_len > 4) {
		fprintf(out, "iscsi:%.*s", (int)strnlen((const char *)t + 4, reg->transport_id_len - 4),
			(const char *)t + 4);
		return;
	}
	fprintf(out, "hex:");
	for (unsigned i = 0; i < reg->transport_id_len; i++)
		fprintf(out, "%02x", t[i]);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void pr_store_print(FILE *out, const struct scst_pr *pr)
{
	const struct scst_pr_registrant *reg;
	uint64_t *keys = NULL;
	unsigned n = 0;

	fprintf(out, "aptpl %d\n", pr->aptpl);
	fprintf(out, "generation %u\n", pr->generation);
	if (!pr->reserved)
		fprintf(out, "reservation none\n");
	else if (!pr->holder)
		fprintf(out, "reservation type %s scope %u holder all-registrants\n",
			scst_pr_type_name(pr->type), pr->scope);
	else
		fprintf(out, "reservation type %s scope %u holder 0x%016llx\n", scst_pr_type_name(pr->type),
			pr->scope, (unsigned long long)pr->holder->key);
	if (pr->nregistrants)
		keys = calloc(pr->nregistrants, sizeof(*keys));
	list_for_each_entry(reg, &pr->registrants, entry) {
		fprintf(out, "registrant key 0x%016llx rel_tgt_id %u all_tg_pt %d%s transport_id ",
			(unsigned long long)reg->key, reg->rel_tgt_id, reg->all_tg_pt,
			reg == pr->holder ? " holder" : "");
		print_tid(out, reg);
		fputc('\n', out);
		if (keys)
			keys[n++] = reg->key;
	}
	/* What PERSISTENT RESERVE IN would say, in one comparable line:
	 * READ KEYS' generation and keys (sorted: the order of the list is
	 * not part of the answer), READ RESERVATION's type and key (0 for
	 * an all-registrants type, SPC-4 6.16.3). */
	qsort(keys, n, sizeof(*keys), cmp_u64);
	fprintf(out, "view gen=%u keys=", pr->generation);
	for (unsigned i = 0; i < n; i++)
		fprintf(out, "%s0x%llx", i ? "," : "", (unsigned long long)keys[i]);
	if (!pr->reserved)
		fprintf(out, " res=none\n");
	else
		fprintf(out, " res=%u/0x%llx\n", pr->type,
			pr->holder ? (unsigned long long)pr->holder->key : 0ull);
	free(keys);
}

/* ------------------------------------------------------------------ */
/* Files. */

static int read_all(int fd, uint8_t *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO; /* shrank while being read */
		done += (size_t)n;
	}
	return 0;
}

static int write_all(int fd, const uint8_t *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		done += (size_t)n;
	}
	return 0;
}

int pr_store_read_file(const char *path, struct scst_pr *pr, char *err, size_t errlen)
{
	uint8_t *buf = NULL;
	char why[256];
	struct stat st;
	int fd, ret = -1, rc;

	pr_init_empty(pr);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc == -ENOENT ? -ENOENT : -1;
	}
	if (fstat(fd, &st)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	if ((uint64_t)st.st_size > PR_STORE_MAX_FILE_SIZE) {
		snprintf(err, errlen, "%s: %lld bytes, more than a PR state file can have (%u)",
			 path, (long long)st.st_size, PR_STORE_MAX_FILE_SIZE);
		goto out;
	}
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	rc = read_all(fd, buf, (size_t)st.st_size);
	if (rc) {
		snprintf(err, errlen, "%s: read: %s", path, strerror(-rc));
		goto out;
	}
	if (pr_store_decode(buf, (size_t)st.st_size, pr, why, sizeof(why))) {
		snprintf(err, errlen, "%s: refused: %s", path, why);
		goto out;
	}
	ret = 0;
out:
	free(buf);
	close(fd);
	return ret;
}

int pr_store_load_file(const char *path, struct scst_pr *pr, char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	int rc;

	pr_init_empty(pr);
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	/* A save that a crash stopped before its rename: the file itself is
	 * the last complete state, the .tmp was acknowledged to no one. */
	if (unlink(tmp) == 0)
		log_warn("%s: removed, left by a save that did not complete; the state is %s's",
			 tmp, path);
	rc = pr_store_read_file(path, pr, err, errlen);
	return rc == -ENOENT ? 0 : rc ? -1 : 0;
}

/* Makes the directory entries of @dir durable (a rename or unlink in it). */
static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd))
		ret = -errno;
	close(fd);
	return ret;
}

/* The directory part of @path into @dir. */
static void dir_of(const char *path, char *dir, size_t dirlen)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(dir, dirlen, ".");
	else if (slash == path)
		snprintf(dir, dirlen, "/");
	else
		snprintf(dir, dirlen, "%.*s", (int)(slash - path), path);
}

int pr_store_write_file(const char *path, const uint8_t *bytes, size_t len, char *err,
			size_t errlen)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	const char *step;
	int fd, rc;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -ENAMETOOLONG;
	}
	dir_of(path, dir, sizeof(dir));
	if (!bytes) {
		bool removed = unlink(path) == 0;

		if (!removed && errno != ENOENT) {
			rc = -errno;
			snprintf(err, errlen, "%s: unlink: %s", path, strerror(errno));
			return rc;
		}
		if (unlink(tmp) == 0)
			removed = true;
		if (!removed)
			return 0; /* nothing was there: nothing to make durable */
		rc = fsync_dir(dir);
		if (rc)
			snprintf(err, errlen, "%s: fsync: %s", dir, strerror(-rc));
		return rc;
	}

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: open: %s", tmp, strerror(errno));
		return rc;
	}
	step = "write";
	rc = write_all(fd, bytes, len);
	if (!rc) {
		step = "fsync";
		if (fsync(fd))
			rc = -errno;
	}
	if (close(fd) && !rc) {
		step = "close";
		rc = -errno;
	}
	if (rc) {
		snprintf(err, errlen, "%s: %s: %s", tmp, step, strerror(-rc));
		unlink(tmp);
		return rc;
	}
	if (rename(tmp, path)) {
		rc = -errno;
		snprintf(err, errlen, "rename %s to %s: %s", tmp, path, strerror(errno));
		unlink(tmp);
		return rc;
	}
	/* Until the directory is synced, a crash may bring back the old
	 * entry: the command must not complete before. */
	rc = fsync_dir(dir);
	if (rc)
		snprintf(err, errlen, "%s: fsync: %s", dir, strerror(-rc));
	return rc;
}

/* ------------------------------------------------------------------ */
/* The state directory and the writer thread. */

static struct {
	/* Guards the queue and the flags. Held for a few instructions only:
	 * submitters hold dev->lock while they take it. */
	pthread_mutex_t lock;
	pthread_cond_t work;
	struct pr_store_req *head, **tail;
	bool running, stopping;
	pthread_t thread;
	/* Held across one file operation (the writer's save, a load), so a
	 * load never reads a file the writer is replacing. Never taken by a
	 * submitter. */
	pthread_mutex_t io_lock;
	char *state_dir;
	bool pr_dir_ready; /* writer thread only */
} writer = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.work = PTHREAD_COND_INITIALIZER,
	.io_lock = PTHREAD_MUTEX_INITIALIZER,
};

int pr_store_path(const char *dev_name, char *buf, size_t buflen, char *err, size_t errlen)
{
	int rc = state_file_path("pr", dev_name, buf, buflen, err, errlen);

	if (rc > 0)
		snprintf(err, errlen, "no state directory for the PR state of device '%s'",
			 dev_name);
	return rc ? -1 : 0;
}

int pr_store_load(const char *dev_name, struct scst_pr *pr, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int ret;

	if (!writer.state_dir) {
		pr_init_empty(pr);
		return 0;
	}
	if (pr_store_path(dev_name, path, sizeof(path), err, errlen)) {
		pr_init_empty(pr);
		return -1;
	}
	pthread_mutex_lock(&writer.io_lock);
	ret = pr_store_load_file(path, pr, err, errlen);
	pthread_mutex_unlock(&writer.io_lock);
	if (!ret && pr->nregistrants)
		log_info("device %s: persistent reservations loaded from %s: %u registrant(s), %s",
			 dev_name, path, pr->nregistrants,
			 pr->reserved ? scst_pr_type_name(pr->type) : "no reservation");
	return ret;
}

/* <state_dir>/pr (0700: reservation keys are the cluster's secrets),
 * the first time a file is written. */
static int ensure_pr_dir(const char *path, char *err, size_t errlen)
{
	int rc;

	if (writer.pr_dir_ready)
		return 0;
	rc = state_file_make_dirs(path, err, errlen);
	if (!rc)
		writer.pr_dir_ready = true;
	return rc;
}

static int save(struct pr_store_req *req)
{
	char path[PATH_MAX], err[PATH_MAX + 256];
	int rc;

	if (pr_store_path(req->dev_name, path, sizeof(path), err, sizeof(err))) {
		log_error("device %s: PR state not saved: %s", req->dev_name, err);
		return -EINVAL;
	}
	pthread_mutex_lock(&writer.io_lock);
	rc = req->bytes ? ensure_pr_dir(path, err, sizeof(err)) : 0;
	if (!rc)
		rc = pr_store_write_file(path, req->bytes, req->len, err, sizeof(err));
	pthread_mutex_unlock(&writer.io_lock);
	if (rc)
		log_error("device %s: PR state not saved: %s", req->dev_name, err);
	else
		log_debug("device %s: PR state %s %s", req->dev_name,
			  req->bytes ? "saved to" : "removed:", path);
	return rc;
}

static void deliver(struct reactor_msg *m)
{
	struct pr_store_req *req = container_of(m, struct pr_store_req, msg);

	req->done(req, req->err);
}

static void complete(struct pr_store_req *req, int err)
{
	free(req->bytes);
	req->bytes = NULL;
	req->err = err;
	if (req->reply_to)
		reactor_send(req->reply_to, &req->msg, deliver);
	else
		req->done(req, err);
}

static void *writer_main(void *arg)
{
	struct pr_store_req *req;

	for (;;) {
		pthread_mutex_lock(&writer.lock);
		while (!writer.head && !writer.stopping)
			pthread_cond_wait(&writer.work, &writer.lock);
		req = writer.head;
		if (!req) {
			/* stopping, and everything before it written */
			pthread_mutex_unlock(&writer.lock);
			return NULL;
		}
		writer.head = req->next;
		if (!writer.head)
			writer.tail = &writer.head;
		pthread_mutex_unlock(&writer.lock);
		complete(req, save(req));
	}
}

int pr_store_start(const char *state_dir, char *err, size_t errlen)
{
	int rc;

	assert(!writer.running);
	writer.state_dir = strdup(state_dir);
	if (!writer.state_dir) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	writer.head = NULL;
	writer.tail = &writer.head;
	writer.stopping = false;
	writer.pr_dir_ready = false;
	rc = pthread_create(&writer.thread, NULL, writer_main, NULL);
	if (rc) {
		snprintf(err, errlen, "cannot start the PR state writer thread: %s", strerror(rc));
		free(writer.state_dir);
		writer.state_dir = NULL;
		return -1;
	}
	writer.running = true;
	return 0;
}

void pr_store_stop(void)
{
	if (!writer.running)
		return;
	pthread_mutex_lock(&writer.lock);
	writer.stopping = true;
	pthread_cond_signal(&writer.work);
	pthread_mutex_unlock(&writer.lock);
	pthread_join(writer.thread, NULL);
	pthread_mutex_lock(&writer.lock);
	assert(!writer.head);
	writer.running = false;
	pthread_mutex_unlock(&writer.lock);
	free(writer.state_dir);
	writer.state_dir = NULL;
}

void pr_store_submit(struct pr_store_req *req, const char *dev_name, uint8_t *bytes, size_t len,
		     struct reactor *reply_to, void (*done)(struct pr_store_req *req, int err))
{
	bool accepted;

	assert(done && dev_name);
	req->next = NULL;
	req->dev_name = dev_name;
	req->bytes = bytes;
	req->len = len;
	req->reply_to = reply_to;
	req->done = done;
	req->err = 0;
	pthread_mutex_lock(&writer.lock);
	accepted = writer.running && !writer.stopping;
	if (accepted) {
		*writer.tail = req;
		writer.tail = &req->next;
		pthread_cond_signal(&writer.work);
	}
	pthread_mutex_unlock(&writer.lock);
	if (!accepted)
		complete(req, -ESHUTDOWN);
}

void pr_store_save(struct pr_store_req *req, const char *dev_name, const struct scst_pr *pr,
		   struct reactor *reply_to, void (*done)(struct pr_store_req *req, int err))
{
	uint8_t *bytes = NULL;
	size_t len = 0;

	if (pr_store_wanted(pr) && pr_store_encode(pr, &bytes, &len)) {
		log_error("device %s: PR state not saved: out of memory for its %zu bytes",
			  dev_name, pr_store_encoded_size(pr));
		req->bytes = NULL;
		req->dev_name = dev_name;
		req->reply_to = reply_to;
		req->done = done;
		complete(req, -ENOMEM);
		return;
	}
	pr_store_submit(req, dev_name, bytes, len, reply_to, done);
}

const char *pr_store_state_dir(void)
{
	return writer.state_dir;
}

bool pr_store_available(void)
{
	bool running;

	pthread_mutex_lock(&writer.lock);
	running = writer.running && !writer.stopping;
	pthread_mutex_unlock(&writer.lock);
	return running;
}
