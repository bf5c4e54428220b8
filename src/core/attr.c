/* Attribute values and descriptors (attr_desc.h): reading a value,
 * storing it where its descriptor says, showing it, checking a table, and
 * describing it for --list-attributes. */
#include <assert.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/attr_desc.h"
#include "core/scst.h"

bool scst_attr_bool(const char *value, bool *out)
{
	if (!strcmp(value, "1") || !strcasecmp(value, "yes") || !strcasecmp(value, "true") ||
	    !strcasecmp(value, "on")) {
		*out = true;
		return true;
	}
	if (!strcmp(value, "0") || !strcasecmp(value, "no") || !strcasecmp(value, "false") ||
	    !strcasecmp(value, "off")) {
		*out = false;
		return true;
	}
	return false;
}

/* Decimal digits only, as SCST's numeric attributes are written: "010" is
 * ten (strtoull's base 0 read it as octal eight), and a sign, blanks, an
 * empty value, anything after the digits and a value beyond 2^64-1 are
 * refused rather than read as something else. No uscst attribute takes
 * hex; one that does gets its own parser. */
bool scst_attr_u64(const char *value, uint64_t *out)
{
	uint64_t v = 0;

	if (!*value)
		return false;
	for (const char *c = value; *c; c++) {
		unsigned digit = (unsigned)(*c - '0');

		if (digit > 9)
			return false;
		if (v > (UINT64_MAX - digit) / 10)
			return false;
		v = v * 10 + digit;
	}
	*out = v;
	return true;
}

/* ------------------------------------------------------------------ */
/* Descriptors. */

const char *scst_attr_owner_name(enum scst_attr_owner owner)
{
	switch (owner) {
	case SCST_ATTR_OWNER_DRIVER:
		return "TARGET_DRIVER";
	case SCST_ATTR_OWNER_TARGET:
		return "TARGET";
	case SCST_ATTR_OWNER_GROUP:
		return "GROUP";
	case SCST_ATTR_OWNER_LUN:
		return "LUN";
	case SCST_ATTR_OWNER_DEVICE:
		return "DEVICE";
	case SCST_ATTR_OWNER_DEVICE_GROUP:
		return "DEVICE_GROUP";
	case SCST_ATTR_OWNER_TARGET_GROUP:
		return "TARGET_GROUP";
	case SCST_ATTR_OWNER_TG_TARGET:
		return "TARGET of a TARGET_GROUP";
	}
	return "?";
}

static uint64_t uint_max_of_size(size_t size)
{
	return size >= 8 ? UINT64_MAX : (UINT64_C(1) << (8 * size)) - 1;
}

/* The accepted range of a UINT descriptor. */
static void uint_range(const struct scst_attr_desc *d, uint64_t *lo, uint64_t *hi)
{
	*lo = d->min;
	*hi = d->min == 0 && d->max == 0 ? uint_max_of_size(d->size) : d->max;
}

const struct scst_attr_desc *scst_attr_find(const struct scst_attr_table *t, const char *name)
{
	for (unsigned i = 0; i < t->ndescs; i++)
		if (!strcmp(t->descs[i].name, name))
			return &t->descs[i];
	return NULL;
}

/* What a refused value was expected to be, for the reason. */
static const char *expected(const struct scst_attr_desc *d, char *buf, size_t len)
{
	uint64_t lo, hi;
	size_t at = 0;

	if (d->expect)
		return d->expect;
	switch (d->type) {
	case SCST_ATTR_BOOL:
		return "0 or 1";
	case SCST_ATTR_UINT:
		uint_range(d, &lo, &hi);
		/* Only a 64-bit limit is beyond what anyone writes. */
		if (hi == UINT64_MAX && lo <= 1)
			return lo == 0 ? "a number" : "a positive number";
		snprintf(buf, len, "in %" PRIu64 "..%" PRIu64, lo, hi);
		return buf;
	case SCST_ATTR_ENUM:
		buf[0] = '\0';
		for (const char *const *c = d->choices; *c && at < len; c++)
			at += (size_t)snprintf(buf + at, len - at, "%s%s", at ? ", " : "one of ", *c);
		return buf;
	case SCST_ATTR_CHARS:
	case SCST_ATTR_STRING:
	case SCST_ATTR_CUSTOM:
		break;
	}
	return "valid";
}

static void bad_value(const struct scst_attr_table *t, const struct scst_attr_desc *d,
		      const char *value, char *err, size_t errlen)
{
	char buf[160];
	const char *expect = expected(d, buf, sizeof(buf));

	if (t->bad_value)
		t->bad_value(d, value, expect, err, errlen);
	else
		snprintf(err, errlen, "%s: '%s' is not %s", d->name, value, expect);
}

int scst_attr_parse_value(const struct scst_attr_table *t, const struct scst_attr_desc *d,
			  const char *value, union scst_attr_value *out, char *err, size_t errlen)
{
	uint64_t lo, hi;

	assert(d->type != SCST_ATTR_CUSTOM);
	switch (d->type) {
	case SCST_ATTR_BOOL:
		if (scst_attr_bool(value, &out->b))
			return 0;
		break;
	case SCST_ATTR_UINT:
		uint_range(d, &lo, &hi);
		if (scst_attr_u64(value, &out->u) && out->u >= lo && out->u <= hi)
			return 0;
		break;
	case SCST_ATTR_ENUM:
		for (unsigned i = 0; d->choices[i]; i++) {
			if (!strcmp(d->choices[i], value)) {
				out->index = i;
				return 0;
			}
		}
		break;
	case SCST_ATTR_CHARS:
		if (strlen(value) >= d->size) {
			snprintf(err, errlen, "%s '%s' is longer than %zu characters", d->name, value,
				 d->size - 1);
			return -1;
		}
		out->s = value;
		return 0;
	case SCST_ATTR_STRING:
		out->s = value;
		return 0;
	case SCST_ATTR_CUSTOM:
		break;
	}
	bad_value(t, d, value, err, errlen);
	return -1;
}

static void store_uint(void *field, size_t size, uint64_t v)
{
	switch (size) {
	case 1:
		*(uint8_t *)field = (uint8_t)v;
		break;
	case 2:
		*(uint16_t *)field = (uint16_t)v;
		break;
	case 4:
		*(uint32_t *)field = (uint32_t)v;
		break;
	default:
		assert(size == 8);
		*(uint64_t *)field = v;
		break;
	}
}

static uint64_t load_uint(const void *field, size_t size)
{
	switch (size) {
	case 1:
		return *(const uint8_t *)field;
	case 2:
		return *(const uint16_t *)field;
	case 4:
		return *(const uint32_t *)field;
	default:
		assert(size == 8);
		return *(const uint64_t *)field;
	}
}

int scst_attr_parse(const struct scst_attr_table *t, const struct scst_attr_desc *d, void *obj,
		    const char *value, char *err, size_t errlen)
{
	union scst_attr_value v;
	char *field = (char *)obj + d->offset;
	char *copy;

	if (d->parse)
		return d->parse(obj, d, value, err, errlen);
	if (scst_attr_parse_value(t, d, value, &v, err, errlen))
		return -1;
	if (d->flags & SCST_ATTR_NOT_KEPT)
		return 0;
	switch (d->type) {
	case SCST_ATTR_BOOL:
		*(bool *)(void *)field = v.b;
		break;
	case SCST_ATTR_UINT:
		store_uint(field, d->size, v.u);
		break;
	case SCST_ATTR_ENUM:
		store_uint(field, d->size, v.index);
		break;
	case SCST_ATTR_CHARS:
		strcpy(field, v.s);
		break;
	case SCST_ATTR_STRING:
		copy = strdup(v.s);
		if (!copy) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		free(*(char **)(void *)field);
		*(char **)(void *)field = copy;
		break;
	case SCST_ATTR_CUSTOM:
		assert(!"a CUSTOM descriptor without parse");
		return -1;
	}
	return 0;
}

void scst_attr_take_first(void *ctx, const char *name, const char *value)
{
	struct scst_attr_first *f = ctx;

	(void)name;
	if (f->n++ == 0)
		snprintf(f->text, sizeof(f->text), "%s", value);
}

bool scst_attr_same_value(const struct scst_attr_desc *d, const char *a, const char *b)
{
	bool x, y;
	uint64_t m, n;

	if (d->type == SCST_ATTR_BOOL && scst_attr_bool(a, &x) && scst_attr_bool(b, &y))
		return x == y;
	if (d->type == SCST_ATTR_UINT && scst_attr_u64(a, &m) && scst_attr_u64(b, &n))
		return m == n;
	return strcmp(a, b) == 0;
}

void scst_attr_obj_release(const struct scst_attr_table *t, void *obj)
{
	if (t->release) {
		t->release(obj);
		return;
	}
	for (unsigned i = 0; i < t->ndescs; i++) {
		const struct scst_attr_desc *d = &t->descs[i];
		char **field = (char **)(void *)((char *)obj + d->offset);

		if (d->type == SCST_ATTR_STRING && !(d->flags & SCST_ATTR_NOT_KEPT)) {
			free(*field);
			*field = NULL;
		}
	}
}

int scst_attr_defaults(const struct scst_attr_table *t, void *obj, char *err, size_t errlen)
{
	for (unsigned i = 0; i < t->ndescs; i++) {
		const struct scst_attr_desc *d = &t->descs[i];

		if (d->def && !(d->flags & SCST_ATTR_NOT_KEPT) &&
		    scst_attr_parse(t, d, obj, d->def, err, errlen))
			return -1;
	}
	return 0;
}

int scst_attrs_take(const struct scst_attr_table *t, void *obj, struct scst_attr *attrs,
		    unsigned nattrs, char *err, size_t errlen)
{
	for (unsigned i = 0; i < nattrs; i++) {
		struct scst_attr *a = &attrs[i];
		const struct scst_attr_desc *d;

		if (a->consumed || !(d = scst_attr_find(t, a->name)))
			continue;
		if (!(d->flags & SCST_ATTR_MULTI)) {
			/* The config parser refuses a duplicate already; the RPC
			 * will hand lists it did not check. */
			for (unsigned j = 0; j < i; j++) {
				if (!strcmp(attrs[j].name, a->name)) {
					snprintf(err, errlen, "%s given twice", a->name);
					return -1;
				}
			}
		}
		if (scst_attr_parse(t, d, obj, a->value, err, errlen))
			return -1;
		a->consumed = true;
	}
	for (unsigned k = 0; k < t->ndescs; k++) {
		const struct scst_attr_desc *d = &t->descs[k];
		bool given = false;

		if (!(d->flags & SCST_ATTR_REQUIRED))
			continue;
		for (unsigned i = 0; i < nattrs && !given; i++)
			given = !strcmp(attrs[i].name, d->name);
		if (!given) {
			snprintf(err, errlen, "%s needs a %s attribute", t->name, d->name);
			return -1;
		}
	}
	return t->check ? t->check(obj, err, errlen) : 0;
}

int scst_attr_tables_take(const struct scst_attr_table *const *tables, void *owner,
			  struct scst_attr *attrs, unsigned nattrs, char *err, size_t errlen)
{
	for (const struct scst_attr_table *const *t = tables; t && *t; t++) {
		void *obj = (*t)->object_of ? (*t)->object_of(owner) : owner;

		assert(obj);
		if (scst_attrs_take(*t, obj, attrs, nattrs, err, errlen))
			return -1;
	}
	return 0;
}

void scst_attr_show(const struct scst_attr_desc *d, const void *obj, scst_attr_emit_fn *emit,
		    void *ctx)
{
	const char *field = (const char *)obj + d->offset;
	char num[24];
	uint64_t v;

	if (d->show) {
		d->show(obj, d, emit, ctx);
		return;
	}
	if (d->flags & SCST_ATTR_NOT_KEPT)
		return;
	switch (d->type) {
	case SCST_ATTR_BOOL:
		if (d->flags & SCST_ATTR_YES_NO)
			emit(ctx, d->name, *(const bool *)(const void *)field ? "Yes" : "No");
		else
			emit(ctx, d->name, *(const bool *)(const void *)field ? "1" : "0");
		break;
	case SCST_ATTR_UINT:
		snprintf(num, sizeof(num), "%" PRIu64, load_uint(field, d->size));
		emit(ctx, d->name, num);
		break;
	case SCST_ATTR_ENUM:
		v = load_uint(field, d->size);
		for (unsigned i = 0; d->choices[i]; i++)
			if (i == v)
				emit(ctx, d->name, d->choices[i]);
		break;
	case SCST_ATTR_CHARS:
		if (*field)
			emit(ctx, d->name, field);
		break;
	case SCST_ATTR_STRING:
		if (*(char *const *)(const void *)field)
			emit(ctx, d->name, *(char *const *)(const void *)field);
		break;
	case SCST_ATTR_CUSTOM:
		assert(!"a CUSTOM descriptor without show");
		break;
	}
}

void scst_attr_show_of(const struct scst_attr_table *t, const struct scst_attr_desc *d,
		       void *owner, scst_attr_emit_fn *emit, void *ctx)
{
	const void *obj = t->object_of ? t->object_of(owner) : owner;

	if (obj)
		scst_attr_show(d, obj, emit, ctx);
}

void scst_attrs_show(const struct scst_attr_table *t, const void *obj, scst_attr_emit_fn *emit,
		     void *ctx)
{
	for (unsigned i = 0; i < t->ndescs; i++)
		scst_attr_show(&t->descs[i], obj, emit, ctx);
}

int scst_attr_set_live(const struct scst_attr_table *t, void *owner, const char *name,
		       const char *value, char *err, size_t errlen)
{
	const struct scst_attr_desc *d = scst_attr_find(t, name);

	if (!d) {
		snprintf(err, errlen, "%s has no %s attribute '%s'", t->name,
			 scst_attr_owner_name(t->owner), name);
		return -1;
	}
	if (!d->set) {
		snprintf(err, errlen, "%s is fixed once the %s exists", name,
			 scst_attr_owner_name(t->owner));
		return -1;
	}
	return d->set(owner, d, value, err, errlen);
}

/* ------------------------------------------------------------------ */
/* Checking a table at registration. */

static int desc_check(const struct scst_attr_table *t, const struct scst_attr_desc *d,
		      char *err, size_t errlen)
{
	bool kept = !(d->flags & SCST_ATTR_NOT_KEPT) && d->type != SCST_ATTR_CUSTOM;
	uint64_t lo, hi;

#define REFUSE(...)                                                                 \
	do {                                                                        \
		int n_ = snprintf(err, errlen, "%s attribute table, %s: ", t->name, \
				  d->name ? d->name : "(no name)");                 \
		if (n_ >= 0 && (size_t)n_ < errlen)                                 \
			snprintf(err + n_, errlen - (size_t)n_, __VA_ARGS__);       \
		return -1;                                                          \
	} while (0)

	if (!d->name || !*d->name)
		REFUSE("a descriptor without a name");
	if (!d->help)
		REFUSE("no help text");
	if (d->type == SCST_ATTR_CUSTOM && (!d->parse || !d->type_name))
		REFUSE("a custom attribute needs parse and type_name");
	if (d->type == SCST_ATTR_CUSTOM && !d->show && !(d->flags & SCST_ATTR_NOT_KEPT))
		REFUSE("a custom attribute that is kept needs show");
	if ((d->flags & SCST_ATTR_MULTI) && !d->parse)
		REFUSE("a repeatable attribute needs its own parse (to add each value)");
	if (kept && d->offset + d->size > t->object_size)
		REFUSE("stored at %zu..%zu, outside the %zu-byte object", d->offset,
		       d->offset + d->size, t->object_size);
	switch (d->type) {
	case SCST_ATTR_BOOL:
		if (kept && d->size != sizeof(bool))
			REFUSE("a bool field is %zu bytes", d->size);
		break;
	case SCST_ATTR_UINT:
	case SCST_ATTR_ENUM:
		if (kept && d->size != 1 && d->size != 2 && d->size != 4 && d->size != 8)
			REFUSE("an integer field of %zu bytes", d->size);
		if (d->type == SCST_ATTR_ENUM && (!d->choices || !d->choices[0]))
			REFUSE("an enum without choices");
		uint_range(d, &lo, &hi);
		if (lo > hi || hi > uint_max_of_size(d->size))
			REFUSE("the range %" PRIu64 "..%" PRIu64 " does not fit", lo, hi);
		break;
	case SCST_ATTR_CHARS:
		if (d->size == 0)
			REFUSE("a character array of no size");
		break;
	case SCST_ATTR_STRING:
		if (kept && d->size != sizeof(char *))
			REFUSE("a string field that is not a char *");
		break;
	case SCST_ATTR_CUSTOM:
		break;
	}
	for (const struct scst_attr_desc *o = t->descs; o < d; o++)
		if (!strcmp(o->name, d->name))
			REFUSE("described twice");
#undef REFUSE
	return 0;
}

int scst_attr_table_check(const struct scst_attr_table *t, char *err, size_t errlen)
{
	char why[192];
	void *obj;
	int rc;

	for (unsigned i = 0; i < t->ndescs; i++)
		if (desc_check(t, &t->descs[i], err, errlen))
			return -1;
	/* Every default must parse: applied to an object of the table's
	 * kind, as creating one does. */
	obj = calloc(1, t->object_size ? t->object_size : 1);
	if (!obj) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rc = scst_attr_defaults(t, obj, why, sizeof(why));
	if (rc)
		snprintf(err, errlen, "%s attribute table: a default does not parse: %s", t->name,
			 why);
	for (unsigned i = 0; !rc && i < t->ndescs; i++) {
		const struct scst_attr_desc *d = &t->descs[i];
		union scst_attr_value v;

		if ((d->flags & SCST_ATTR_NOT_KEPT) && d->def &&
		    scst_attr_parse_value(t, d, d->def, &v, why, sizeof(why))) {
			snprintf(err, errlen, "%s attribute table: a default does not parse: %s",
				 t->name, why);
			rc = -1;
		}
	}
	scst_attr_obj_release(t, obj);
	free(obj);
	return rc;
}

int scst_attr_tables_disjoint(const struct scst_attr_table *a, const struct scst_attr_table *b,
			      char *err, size_t errlen)
{
	for (unsigned i = 0; i < a->ndescs; i++) {
		if (scst_attr_find(b, a->descs[i].name)) {
			snprintf(err, errlen, "%s attribute '%s' is also %s's", a->name,
				 a->descs[i].name, b->name);
			return -1;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* --list-attributes */

static const char *type_text(const struct scst_attr_desc *d, char *buf, size_t len)
{
	uint64_t lo, hi;

	switch (d->type) {
	case SCST_ATTR_BOOL:
		return "bool";
	case SCST_ATTR_UINT:
		uint_range(d, &lo, &hi);
		if (d->expect && d->parse)
			snprintf(buf, len, "uint: %s", d->expect); /* its own rule */
		else if (hi == UINT64_MAX)
			snprintf(buf, len, "uint %" PRIu64 " or more", lo);
		else
			snprintf(buf, len, "uint %" PRIu64 "..%" PRIu64, lo, hi);
		return buf;
	case SCST_ATTR_CHARS:
		snprintf(buf, len, "string, at most %zu characters", d->size - 1);
		return buf;
	case SCST_ATTR_STRING:
		return "string";
	case SCST_ATTR_ENUM: {
		size_t at = (size_t)snprintf(buf, len, "one of");

		for (const char *const *c = d->choices; *c && at < len; c++)
			at += (size_t)snprintf(buf + at, len - at, " %s", *c);
		return buf;
	}
	case SCST_ATTR_CUSTOM:
		return d->type_name;
	}
	return "?";
}

void scst_attr_heading(enum scst_attr_owner owner, const char *scope, FILE *out)
{
	fprintf(out, "%s attributes of %s:\n", scst_attr_owner_name(owner), scope);
}

void scst_attr_table_describe(const struct scst_attr_table *t, FILE *out)
{
	char type[160];

	for (unsigned i = 0; i < t->ndescs; i++) {
		const struct scst_attr_desc *d = &t->descs[i];

		fprintf(out, "  %s  [%s]  default: %s%s%s%s; %s\n", d->name,
			type_text(d, type, sizeof(type)), d->def ? d->def : "none",
			d->flags & SCST_ATTR_REQUIRED ? "; required" : "",
			d->flags & SCST_ATTR_MULTI ? "; repeatable" : "",
			d->flags & SCST_ATTR_SECRET ? "; secret" : "",
			d->set || t->reparsed_live ? "changeable at run time"
						   : "set at creation only");
		fprintf(out, "      %s\n", d->help);
	}
}
