/* Attribute descriptors (core/attr_desc.h): the generic parse, show and
 * set, the registration checks, and the real tables of the core, vdisk
 * and iscsi as the config loader uses them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/attr_desc.h"
#include "core/scst.h"
#include "handlers/vdisk/vdisk.h"
#include "mgmt/config.h"
#include "targets/iscsi/iscsi.h"
#include "targets/iscsi/params.h"

/* ------------------------------------------------------------------ */
/* A table of every type, on an object of its own. */

struct widget {
	bool flag;
	bool yes;
	uint16_t port;
	uint64_t bytes;
	char label[5];
	char *path;
	unsigned colour;
	char tags[4][8]; /* MULTI, custom */
	unsigned ntags;
	bool live; /* what the set callback saw */
};

static const char *const colours[] = { "red", "green", "blue", NULL };

static int parse_tag(void *obj, const struct scst_attr_desc *d, const char *value, char *err,
		     size_t errlen)
{
	struct widget *w = obj;

	if (w->ntags == 4 || strlen(value) >= sizeof(w->tags[0])) {
		snprintf(err, errlen, "%s: no room for '%s'", d->name, value);
		return -1;
	}
	strcpy(w->tags[w->ntags++], value);
	return 0;
}

static void show_tags(const void *obj, const struct scst_attr_desc *d, scst_attr_emit_fn *emit,
		      void *ctx)
{
	const struct widget *w = obj;

	for (unsigned i = 0; i < w->ntags; i++)
		emit(ctx, d->name, w->tags[i]);
}

static const struct scst_attr_table widget_table;

static int set_flag_live(void *owner, const struct scst_attr_desc *d, const char *value,
			 char *err, size_t errlen)
{
	struct widget *w = owner;

	w->live = true;
	return scst_attr_parse(&widget_table, d, w, value, err, errlen);
}

static int check_widget(const void *obj, char *err, size_t errlen)
{
	const struct widget *w = obj;

	if (w->port == 99) {
		snprintf(err, errlen, "port 99 is reserved");
		return -1;
	}
	return 0;
}

#define W(member) SCST_ATTR_FIELD(struct widget, member)

static const struct scst_attr_desc widget_descs[] = {
	{ .name = "flag", .type = SCST_ATTR_BOOL, W(flag), .def = "0", .set = set_flag_live,
	  .help = "A flag." },
	{ .name = "yes", .type = SCST_ATTR_BOOL, .flags = SCST_ATTR_YES_NO, W(yes), .def = "Yes",
	  .help = "Shown as Yes / No." },
	{ .name = "port", .type = SCST_ATTR_UINT, W(port), .min = 1, .max = 100, .def = "10",
	  .help = "A bounded number." },
	{ .name = "bytes", .type = SCST_ATTR_UINT, W(bytes), .help = "Any 64-bit number." },
	{ .name = "label", .type = SCST_ATTR_CHARS, W(label), .def = "abc",
	  .help = "At most 4 characters." },
	{ .name = "path", .type = SCST_ATTR_STRING, .flags = SCST_ATTR_REQUIRED, W(path),
	  .help = "Required." },
	{ .name = "colour", .type = SCST_ATTR_ENUM, W(colour), .choices = colours, .def = "green",
	  .help = "One of three." },
	{ .name = "tag", .type = SCST_ATTR_CUSTOM, .flags = SCST_ATTR_MULTI, .type_name = "word",
	  .parse = parse_tag, .show = show_tags, .help = "Repeatable." },
	{ .name = "switch", .type = SCST_ATTR_BOOL, .flags = SCST_ATTR_NOT_KEPT, .def = "1",
	  .help = "Read by whoever takes it, kept nowhere." },
};

static void release_widget(void *obj)
{
	struct widget *w = obj;

	free(w->path);
	w->path = NULL;
}

static const struct scst_attr_table widget_table = {
	.name = "widget",
	.owner = SCST_ATTR_OWNER_DEVICE,
	.descs = widget_descs,
	.ndescs = SCST_ATTR_TABLE_LEN(widget_descs),
	.object_size = sizeof(struct widget),
	.check = check_widget,
	.release = release_widget,
};

/* Emitted "name=value" pairs, joined by '|'. */
struct shown {
	char text[512];
};

static void collect(void *ctx, const char *name, const char *value)
{
	struct shown *s = ctx;
	size_t at = strlen(s->text);

	snprintf(s->text + at, sizeof(s->text) - at, "%s%s=%s", at ? "|" : "", name, value);
}

static const char *show_all(const struct scst_attr_table *t, const void *obj, struct shown *s)
{
	s->text[0] = '\0';
	scst_attrs_show(t, obj, collect, s);
	return s->text;
}

/* Parses @n attributes into a fresh widget (defaults first); returns the
 * result and leaves the reason in @err. */
static int take(struct widget *w, struct scst_attr *attrs, unsigned n, char *err, size_t errlen)
{
	*w = (struct widget){ 0 };
	err[0] = '\0';
	if (scst_attr_defaults(&widget_table, w, err, errlen))
		return -1;
	return scst_attrs_take(&widget_table, w, attrs, n, err, errlen);
}

static void test_defaults_and_values(void **state)
{
	struct widget w;
	struct shown s;
	char err[256];
	struct scst_attr attrs[] = {
		{ .name = "path", .value = "/srv/a" },
		{ .name = "port", .value = "010" },
		{ .name = "someone_elses", .value = "1" },
		{ .name = "tag", .value = "one" },
		{ .name = "flag", .value = "on" },
		{ .name = "tag", .value = "two" },
		{ .name = "colour", .value = "blue" },
		{ .name = "bytes", .value = "18446744073709551615" },
		{ .name = "switch", .value = "0" },
	};

	assert_int_equal(take(&w, attrs, 9, err, sizeof(err)), 0);
	for (unsigned i = 0; i < 9; i++)
		assert_int_equal(attrs[i].consumed, i != 2);
	assert_true(w.flag);
	assert_true(w.yes);                 /* default */
	assert_int_equal(w.port, 10);       /* decimal, not octal */
	assert_string_equal(w.label, "abc"); /* default */
	assert_string_equal(w.path, "/srv/a");
	assert_int_equal(w.colour, 2);
	assert_int_equal(w.ntags, 2);
	assert_true(w.bytes == UINT64_MAX);
	assert_string_equal(show_all(&widget_table, &w, &s),
			    "flag=1|yes=Yes|port=10|bytes=18446744073709551615|label=abc|"
			    "path=/srv/a|colour=blue|tag=one|tag=two");
	release_widget(&w);
}

/* Each refusal names the attribute and the value, as FILE:LINE messages
 * need; nothing after the bad one is consumed. */
static void test_refusals(void **state)
{
	static const struct {
		const char *name, *value, *reason;
	} bad[] = {
		{ "flag", "2", "flag: '2' is not 0 or 1" },
		{ "port", "0", "port: '0' is not in 1..100" },
		{ "port", "101", "port: '101' is not in 1..100" },
		{ "port", "+5", "port: '+5' is not in 1..100" },
		{ "bytes", "18446744073709551616", "bytes: '18446744073709551616' is not a number" },
		{ "label", "abcde", "label 'abcde' is longer than 4 characters" },
		{ "colour", "Red", "colour: 'Red' is not one of red, green, blue" },
		{ "tag", "ninechars", "tag: no room for 'ninechars'" },
		{ "port", "99", "port 99 is reserved" }, /* the table's check */
	};
	struct widget w;
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct scst_attr attrs[] = {
			{ .name = "path", .value = "/p" },
			{ .name = bad[i].name, .value = bad[i].value },
			{ .name = "flag", .value = "1" },
		};

		assert_int_equal(take(&w, attrs, 3, err, sizeof(err)), -1);
		assert_string_equal(err, bad[i].reason);
		if (strcmp(bad[i].value, "99") != 0)
			assert_false(attrs[2].consumed);
		release_widget(&w);
	}

	struct scst_attr twice[] = {
		{ .name = "path", .value = "/p" },
		{ .name = "port", .value = "1" },
		{ .name = "port", .value = "2" },
	};
	assert_int_equal(take(&w, twice, 3, err, sizeof(err)), -1);
	assert_string_equal(err, "port given twice");
	release_widget(&w);

	struct scst_attr missing[] = { { .name = "port", .value = "1" } };
	assert_int_equal(take(&w, missing, 1, err, sizeof(err)), -1);
	assert_string_equal(err, "widget needs a path attribute");
	release_widget(&w);
}

static void own_bad_value(const struct scst_attr_desc *d, const char *value, const char *expect,
			  char *err, size_t errlen)
{
	snprintf(err, errlen, "bad value '%s' for widget attribute %s (%s)", value, d->name,
		 expect);
}

/* A table keeps the message its users know. */
static void test_own_message(void **state)
{
	struct scst_attr_table t = widget_table;
	union scst_attr_value v;
	char err[256];

	t.bad_value = own_bad_value;
	assert_int_equal(scst_attr_parse_value(&t, scst_attr_find(&t, "port"), "x", &v, err,
					       sizeof(err)), -1);
	assert_string_equal(err, "bad value 'x' for widget attribute port (in 1..100)");
	assert_int_equal(scst_attr_parse_value(&t, scst_attr_find(&t, "switch"), "off", &v, err,
					       sizeof(err)), 0);
	assert_false(v.b);
}

static void test_set_live(void **state)
{
	struct widget w = { 0 };
	char err[256];

	assert_int_equal(scst_attr_set_live(&widget_table, &w, "flag", "1", err, sizeof(err)), 0);
	assert_true(w.live && w.flag);
	assert_int_equal(scst_attr_set_live(&widget_table, &w, "port", "5", err, sizeof(err)), -1);
	assert_string_equal(err, "port is fixed once the DEVICE exists");
	assert_int_equal(w.port, 0);
	assert_int_equal(scst_attr_set_live(&widget_table, &w, "nope", "5", err, sizeof(err)), -1);
	assert_string_equal(err, "widget has no DEVICE attribute 'nope'");
}

/* ------------------------------------------------------------------ */
/* Registration checks. */

static void assert_table_refused(const struct scst_attr_desc *descs, unsigned n,
				 const char *reason)
{
	struct scst_attr_table t = widget_table;
	char err[256] = "";

	t.descs = descs;
	t.ndescs = n;
	assert_int_equal(scst_attr_table_check(&t, err, sizeof(err)), -1);
	assert_non_null(strstr(err, reason));
}

static void test_table_checks(void **state)
{
	char err[256];

	assert_int_equal(scst_attr_table_check(&widget_table, err, sizeof(err)), 0);

	const struct scst_attr_desc dup[] = { widget_descs[0], widget_descs[1], widget_descs[0] };
	assert_table_refused(dup, 3, "flag: described twice");

	struct scst_attr_desc bad_default = widget_descs[2];
	bad_default.def = "1000";
	assert_table_refused(&bad_default, 1,
			     "a default does not parse: port: '1000' is not in 1..100");

	struct scst_attr_desc outside = widget_descs[3];
	outside.offset = sizeof(struct widget);
	assert_table_refused(&outside, 1, "outside the");

	struct scst_attr_desc multi = widget_descs[0];
	multi.flags = SCST_ATTR_MULTI;
	multi.set = NULL;
	assert_table_refused(&multi, 1, "a repeatable attribute needs its own parse");

	struct scst_attr_desc custom = widget_descs[7];
	custom.parse = NULL;
	assert_table_refused(&custom, 1, "a custom attribute needs parse");

	struct scst_attr_desc range = widget_descs[2];
	range.min = 200;
	range.def = NULL;
	assert_table_refused(&range, 1, "the range 200..100 does not fit");

	struct scst_attr_desc too_big = widget_descs[2];
	too_big.max = 70000; /* a uint16_t */
	too_big.def = NULL;
	assert_table_refused(&too_big, 1, "does not fit");

	struct scst_attr_desc no_help = widget_descs[0];
	no_help.help = NULL;
	assert_table_refused(&no_help, 1, "no help text");

	/* A handler may not redefine one of the core's device attributes. */
	const struct scst_attr_desc read_only = { .name = "read_only", .type = SCST_ATTR_BOOL,
						  W(flag), .help = "mine" };
	struct scst_attr_table t = widget_table;
	t.descs = &read_only;
	t.ndescs = 1;
	assert_int_equal(scst_attr_tables_disjoint(&t, &scst_device_attr_table, err, sizeof(err)),
			 -1);
	assert_string_equal(err, "widget attribute 'read_only' is also core's");
	assert_int_equal(scst_attr_tables_disjoint(&widget_table, &scst_device_attr_table, err,
						   sizeof(err)), 0);
}

/* A handler whose table is unsound is not registered. */
static void test_registration_refuses(void **state)
{
	const struct scst_attr_desc dup[] = { widget_descs[0], widget_descs[0] };
	struct scst_attr_table t = widget_table;
	static const struct scst_op_desc no_ops[] = { { .name = NULL } };
	struct scst_dev_type handler = { .name = "bad_handler", .ops = no_ops, .dev_attrs = &t };

	t.descs = dup;
	t.ndescs = 2;
	assert_int_not_equal(scst_register_dev_handler(&handler), 0);
	assert_null(scst_find_dev_handler("bad_handler"));
	t.owner = SCST_ATTR_OWNER_TARGET; /* a device handler's table must be for DEVICE */
	t.ndescs = 1;
	assert_int_not_equal(scst_register_dev_handler(&handler), 0);
}

/* ------------------------------------------------------------------ */
/* The real tables. */

static int register_all(void **state)
{
	scst_core_init();
	assert_int_equal(vdisk_register(), 0);
	assert_int_equal(iscsi_driver_register(), 0);
	return 0;
}

/* What a table shows reads back to the same object: the running
 * configuration written out loads again (issue 8's -write_config). */
static void assert_round_trip(const struct scst_attr_table *t, struct scst_attr *attrs,
			      unsigned n, void *a, void *b)
{
	struct scst_attr back[32];
	struct shown first, second;
	unsigned nback = 0;
	char err[256], *p;

	assert_int_equal(scst_attr_defaults(t, a, err, sizeof(err)), 0);
	assert_int_equal(scst_attrs_take(t, a, attrs, n, err, sizeof(err)), 0);
	show_all(t, a, &first);
	assert_true(first.text[0] != '\0');
	/* Split "name=value|..." back into attributes. */
	strcpy(second.text, first.text);
	for (p = strtok(second.text, "|"); p; p = strtok(NULL, "|")) {
		char *eq = strchr(p, '=');

		assert_non_null(eq);
		*eq = '\0';
		assert_true(nback < 32);
		back[nback++] = (struct scst_attr){ .name = p, .value = eq + 1 };
	}
	assert_int_equal(scst_attr_defaults(t, b, err, sizeof(err)), 0);
	assert_int_equal(scst_attrs_take(t, b, back, nback, err, sizeof(err)), 0);
	for (unsigned i = 0; i < nback; i++)
		assert_true(back[i].consumed);
	{
		struct shown again;

		show_all(t, b, &again);
		assert_string_equal(again.text, first.text);
	}
}

static void test_real_round_trips(void **state)
{
	struct iscsi_target_params tp1 = { 0 }, tp2 = { 0 };
	struct scst_attr tp_attrs[] = {
		{ .name = "HeaderDigest", .value = "CRC32C" },
		{ .name = "InitialR2T", .value = "1" },
		{ .name = "MaxBurstLength", .value = "131072" },
		{ .name = "FirstBurstLength", .value = "8192" },
		{ .name = "TargetAlias", .value = "shelf 2" },
		{ .name = "MaxSessions", .value = "0" },
	};
	struct shown s;

	assert_round_trip(&iscsi_target_param_table, tp_attrs, 6, &tp1, &tp2);
	assert_non_null(strstr(show_all(&iscsi_target_param_table, &tp2, &s),
			       "HeaderDigest=CRC32C|DataDigest=CRC32C,None|"));
	assert_non_null(strstr(s.text, "InitialR2T=Yes|ImmediateData=Yes|"));
	assert_non_null(strstr(s.text, "TargetAlias=shelf 2"));

	/* The driver's defaults are the table's. */
	iscsi_target_params_default(&tp1);
	assert_int_equal(tp1.max_sessions, ISCSI_DEFAULT_MAX_SESSIONS);
	assert_int_equal(tp1.header_digest, ISCSI_DIGEST_ALLOW_NONE | ISCSI_DIGEST_ALLOW_CRC32C);
	assert_false(tp1.initial_r2t);
	assert_true(tp1.immediate_data);
}

/* The config loader, through the tables: the messages and their lines. */
static int apply_text(const char *text, char *err, size_t errlen)
{
	struct config_tree *tree = config_parse_string(text, "scst.conf", err, errlen);
	int rc;

	if (!tree)
		fail_msg("unexpected parse error: %s", err);
	pthread_mutex_lock(&scst_mutex);
	rc = config_apply(tree, NULL, err, errlen);
	pthread_mutex_unlock(&scst_mutex);
	config_free(tree);
	return rc;
}

static void assert_apply_error(const char *text, const char *expected)
{
	char err[256] = "";

	if (apply_text(text, err, sizeof(err)) == 0)
		fail_msg("applied, but expected \"%s\"", expected);
	assert_string_equal(err, expected);
}

#define TGT "iqn.2026-12.org.example:attrs"

static void test_config_messages(void **state)
{
	assert_apply_error("HANDLER vdisk_nullio {\n  DEVICE n\n}\n"
			   "TARGET_DRIVER iscsi {\n  TARGET " TGT " {\n"
			   "    LUN 0 n {\n      read_only maybe\n    }\n  }\n}\n",
			   "scst.conf:7: LUN 0: read_only 'maybe' is not 0 or 1");
	assert_apply_error("HANDLER vdisk_nullio {\n  DEVICE n\n}\n"
			   "TARGET_DRIVER iscsi {\n  TARGET " TGT " {\n"
			   "    LUN 0 n {\n      read_only 1\n      writable 1\n    }\n  }\n}\n",
			   "scst.conf:8: unknown attribute 'writable' for LUN 0");
	assert_apply_error("TARGET_DRIVER iscsi {\n  TARGET " TGT " {\n    enabled 2\n  }\n}\n",
			   "scst.conf:3: enabled '2' is not 0 or 1");
	assert_apply_error("TARGET_DRIVER iscsi {\n  enabled 2\n}\n",
			   "scst.conf:2: enabled '2' is not 0 or 1");
	assert_apply_error("TARGET_DRIVER iscsi {\n  TARGET " TGT " {\n"
			   "    GROUP g {\n      cpu_mask ff\n    }\n  }\n}\n",
			   "scst.conf:4: group attribute 'cpu_mask' is not supported");
	assert_apply_error("HANDLER vdisk_nullio {\n  DEVICE n {\n    t10_vend_id ABCDEFGHI\n"
			   "  }\n}\n",
			   "scst.conf:3: device 'n': t10_vend_id 'ABCDEFGHI' is longer than 8 "
			   "characters");
	assert_apply_error("HANDLER vdisk_fileio {\n  DEVICE n {\n    blocksize 1024\n  }\n}\n",
			   "scst.conf:3: device 'n': blocksize: '1024' is not 512 or 4096");
	assert_apply_error("HANDLER vdisk_fileio {\n  DEVICE n {\n    blocksize 512\n  }\n}\n",
			   "scst.conf:2: device 'n': vdisk_fileio needs a filename attribute");
	assert_apply_error("TARGET_DRIVER iscsi {\n  TARGET " TGT " {\n"
			   "    allowed_portal 10.0.0.1\n    allowed_portal \"10.0.0.!\"\n  }\n}\n",
			   "scst.conf:4: target '" TGT "': allowed_portal '10.0.0.!' is not an "
			   "address pattern");
}

/* A live object's current values, through the table's object_of. */
static void test_show_of_live_objects(void **state)
{
	struct scst_tgt_template *iscsi = scst_find_target_template("iscsi");
	struct scst_device *dev;
	struct scst_tgt *tgt;
	struct shown s = { "" };
	char err[256] = "";

	assert_int_equal(apply_text("HANDLER vdisk_nullio {\n  DEVICE n {\n    size_mb 16\n"
				    "    rotational 0\n    prod_id Box\n  }\n}\n"
				    "TARGET_DRIVER iscsi {\n  TARGET " TGT " {\n"
				    "    rel_tgt_id 7\n    QueuedCommands 64\n"
				    "    allowed_portal 127.0.0.1\n    allowed_portal ::1\n"
				    "    enabled 1\n    LUN 0 n\n  }\n}\n", err, sizeof(err)), 0);
	pthread_mutex_lock(&scst_mutex);
	dev = scst_find_device("n");
	tgt = scst_find_target(iscsi, TGT);
	assert_non_null(dev);
	assert_non_null(tgt);
	for (unsigned i = 0; i < dev->handler->dev_attrs->ndescs; i++)
		scst_attr_show_of(dev->handler->dev_attrs, &dev->handler->dev_attrs->descs[i], dev,
				  collect, &s);
	assert_string_equal(s.text, "size=16777216|blocksize=512|rotational=0|removable=0|thin_provisioned=0");
	s.text[0] = '\0';
	scst_attr_show_of(&scst_device_attr_table, scst_attr_find(&scst_device_attr_table, "prod_id"),
			  dev, collect, &s);
	assert_string_equal(s.text, "prod_id=Box");
	s.text[0] = '\0';
	scst_attrs_show(&scst_target_attr_table, tgt, collect, &s);
	assert_string_equal(s.text, "rel_tgt_id=7|enabled=1");
	s.text[0] = '\0';
	for (const struct scst_attr_table *const *t = iscsi->tgt_attrs; *t; t++) {
		const struct scst_attr_desc *d = scst_attr_find(*t, "QueuedCommands");

		if (!d)
			d = scst_attr_find(*t, "allowed_portal");
		if (d)
			scst_attr_show_of(*t, d, tgt, collect, &s);
	}
	assert_string_equal(s.text, "QueuedCommands=64|allowed_portal=127.0.0.1|allowed_portal=::1");
	/* The one live change the core has now: enabled. */
	assert_int_equal(scst_attr_set_live(&scst_target_attr_table, tgt, "enabled", "0", err,
					    sizeof(err)), 0);
	assert_false(tgt->enabled);
	assert_int_equal(scst_attr_set_live(&scst_target_attr_table, tgt, "rel_tgt_id", "8", err,
					    sizeof(err)), -1);
	assert_string_equal(err, "rel_tgt_id is fixed once the TARGET exists");
	assert_int_equal(tgt->rel_tgt_id, 7);
	pthread_mutex_unlock(&scst_mutex);
	/* An empty file removes what the last one created. */
	assert_int_equal(apply_text("", err, sizeof(err)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_and_values),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_own_message),
		cmocka_unit_test(test_set_live),
		cmocka_unit_test(test_table_checks),
		cmocka_unit_test(test_registration_refuses),
		cmocka_unit_test(test_real_round_trips),
		cmocka_unit_test(test_config_messages),
		cmocka_unit_test(test_show_of_live_objects),
	};

	return cmocka_run_group_tests(tests, register_all, NULL);
}
