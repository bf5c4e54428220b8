/* scst.conf parser: tokens (config_lexer.c) -> tree of sections.
 *
 * A statement is the words up to a newline, ';', '{' or '}'. When its first
 * word is a section keyword (HANDLER, DEVICE, ...) it opens a section, with
 * a body when a '{' follows; otherwise it is an attribute "name value...".
 * Where a section may stand, how many arguments it takes and whether uscst
 * implements it yet come from section_rules[], SCST's grammar (scst.conf(5)).
 * Sections uscst does not implement are refused here, by line, rather than
 * skipped: a file that silently loses its access control is worse than one
 * that does not load. */
#include "mgmt/config.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mgmt/config_lexer.h"

#define IN(s) (1u << (s))

struct section_rule {
	enum config_section section;
	const char *keyword;
	unsigned nargs;       /* 1, or 2 for LUN <number> <device> */
	bool body_allowed;    /* INITIATOR is a one-liner */
	uint32_t parents;     /* IN() of the sections it may stand in */
	bool unsupported;     /* SCST has it, uscst does not yet */
};

static const struct section_rule section_rules[] = {
	{ .section = CONFIG_HANDLER, .keyword = "HANDLER", .nargs = 1, .body_allowed = true,
	  .parents = IN(CONFIG_ROOT) },
	{ .section = CONFIG_DEVICE, .keyword = "DEVICE", .nargs = 1, .body_allowed = true,
	  .parents = IN(CONFIG_HANDLER) | IN(CONFIG_DEVICE_GROUP) },
	{ .section = CONFIG_TARGET_DRIVER, .keyword = "TARGET_DRIVER", .nargs = 1,
	  .body_allowed = true, .parents = IN(CONFIG_ROOT) },
	{ .section = CONFIG_TARGET, .keyword = "TARGET", .nargs = 1, .body_allowed = true,
	  .parents = IN(CONFIG_TARGET_DRIVER) | IN(CONFIG_TARGET_GROUP) },
	{ .section = CONFIG_LUN, .keyword = "LUN", .nargs = 2, .body_allowed = true,
	  .parents = IN(CONFIG_TARGET) | IN(CONFIG_GROUP) },
	{ .section = CONFIG_GROUP, .keyword = "GROUP", .nargs = 1, .body_allowed = true,
	  .parents = IN(CONFIG_TARGET) },
	{ .section = CONFIG_INITIATOR, .keyword = "INITIATOR", .nargs = 1,
	  .body_allowed = false, .parents = IN(CONFIG_GROUP) },
	{ .section = CONFIG_DEVICE_GROUP, .keyword = "DEVICE_GROUP", .nargs = 1,
	  .body_allowed = true, .parents = IN(CONFIG_ROOT) },
	{ .section = CONFIG_TARGET_GROUP, .keyword = "TARGET_GROUP", .nargs = 1,
	  .body_allowed = true, .parents = IN(CONFIG_DEVICE_GROUP) },
};

static const struct section_rule *find_rule(const char *word)
{
	for (size_t i = 0; i < sizeof(section_rules) / sizeof(section_rules[0]); i++)
		if (strcmp(section_rules[i].keyword, word) == 0)
			return &section_rules[i];
	return NULL;
}

void config_errorf(char *err, size_t errlen, const char *file, unsigned line, const char *fmt,
		   ...)
{
	va_list ap;
	int n;

	if (!err || errlen == 0)
		return;
	if (line)
		n = snprintf(err, errlen, "%s:%u: ", file, line);
	else
		n = snprintf(err, errlen, "%s: ", file);
	if (n < 0 || (size_t)n >= errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

/* Names already given, to refuse a second one with both lines: an open
 * addressing hash set, so that checking each of n attributes of a section
 * costs O(1), not a scan of those before it. A key is a name, or for a LUN
 * its number, within a kind of section. */
struct seen_slot {
	const char *name; /* NULL for a LUN number */
	uint64_t num;
	enum config_section section;
	unsigned line; /* 0: the slot is free (lines count from 1) */
};

struct seen_set {
	struct seen_slot *slots;
	size_t cap, n; /* cap is 0 or a power of two */
};

static size_t seen_hash(enum config_section section, const char *name, uint64_t num,
			size_t *work)
{
	uint64_t h = 14695981039346656037ull ^ (uint64_t)section; /* FNV-1a */

	if (name) {
		for (const char *c = name; *c; c++)
			h = (h ^ (unsigned char)*c) * 1099511628211ull;
		*work += strlen(name);
	} else {
		h = (h ^ num) * 1099511628211ull;
	}
	return (size_t)(h ^ (h >> 29));
}

static bool seen_same(const struct seen_slot *s, enum config_section section, const char *name,
		      uint64_t num)
{
	if (s->section != section || !s->name != !name)
		return false;
	return name ? strcmp(s->name, name) == 0 : s->num == num;
}

/* The slot for the key: the one holding it, or the free one where it
 * belongs. The table is never full (see seen_add). */
static struct seen_slot *seen_slot_for(struct seen_set *set, enum config_section section,
				       const char *name, uint64_t num, size_t *work)
{
	size_t mask = set->cap - 1;
	size_t i = seen_hash(section, name, num, work) & mask;

	for (;; i = (i + 1) & mask) {
		struct seen_slot *s = &set->slots[i];

		(*work)++;
		if (!s->line || seen_same(s, section, name, num))
			return s;
	}
}

/* Records the key as given on @line, adding what it cost to *@work.
 * Returns 0, the line where it was first given if it was, or -1 when out
 * of memory. @name must outlive the set: it is the string the tree takes
 * over. */
static int seen_add(struct seen_set *set, enum config_section section, const char *name,
		    uint64_t num, unsigned line, size_t *work)
{
	struct seen_slot *s;

	assert(line > 0);
	if ((set->n + 1) * 2 > set->cap) { /* keep the load under one half */
		struct seen_set bigger = { .cap = set->cap ? set->cap * 2 : 16, .n = set->n };

		bigger.slots = calloc(bigger.cap, sizeof(*bigger.slots));
		if (!bigger.slots)
			return -1;
		for (size_t i = 0; i < set->cap; i++)
			if (set->slots[i].line)
				*seen_slot_for(&bigger, set->slots[i].section, set->slots[i].name,
					       set->slots[i].num, work) = set->slots[i];
		free(set->slots);
		*set = bigger;
	}
	s = seen_slot_for(set, section, name, num, work);
	if (s->line)
		return (int)s->line;
	*s = (struct seen_slot){ .name = name, .num = num, .section = section, .line = line };
	set->n++;
	return 0;
}

static void seen_free(struct seen_set *set)
{
	free(set->slots);
	*set = (struct seen_set){ 0 };
}

/* ------------------------------------------------------------------ */
/* Parser state: the lexer plus one token of look-ahead. */

struct parser {
	struct config_lexer lx;
	const char *filename;
	struct config_token ahead;
	bool have_ahead;
	size_t work; /* the parser's share of config_tree.parse_work */
	/* DEVICE names, file-wide: LUNs name a device without its handler,
	 * so two handlers may not both have a "disk1". */
	struct seen_set devices;
	char *err;
	size_t errlen;
};

static int next_token(struct parser *p, struct config_token *tok)
{
	if (p->have_ahead) {
		*tok = p->ahead;
		p->have_ahead = false;
		return 0;
	}
	return config_lexer_next(&p->lx, tok, p->err, p->errlen);
}

static void push_back(struct parser *p, const struct config_token *tok)
{
	p->ahead = *tok;
	p->have_ahead = true;
}

/* Returns @arr (@n elements of @size bytes, room for *@cap) with room for
 * one more, doubling the capacity when full, or NULL (@arr untouched) when
 * out of memory. Growing by one element at a time moved the whole array
 * per element: quadratic in a long statement or a section with many
 * attributes. */
static void *grown(struct parser *p, void *arr, unsigned n, unsigned *cap, size_t size)
{
	void *bigger;
	unsigned want;

	assert(n <= *cap);
	if (n < *cap)
		return arr;
	if (*cap > UINT_MAX / 2)
		return NULL;
	want = *cap ? *cap * 2 : 8;
	bigger = realloc(arr, (size_t)want * size);
	if (!bigger)
		return NULL;
	p->work += (size_t)n * size; /* what realloc may have moved */
	*cap = want;
	return bigger;
}

/* One word of a statement. */
struct word {
	char *s;
	size_t len;
};

/* The words of one statement. */
struct statement {
	struct word *words;
	unsigned nwords, cap;
	size_t value_len; /* length of words[1..] joined by single blanks */
	unsigned line;
	bool opens_body; /* ended with '{' */
};

static void statement_free(struct statement *st)
{
	for (unsigned i = 0; i < st->nwords; i++)
		free(st->words[i].s);
	free(st->words);
}

static int oom(struct parser *p, unsigned line)
{
	config_errorf(p->err, p->errlen, p->filename, line, "out of memory");
	return -1;
}

/* Reads words after @first up to the end of the statement. A '}' ending it
 * is pushed back for the enclosing body. */
static int read_statement(struct parser *p, struct config_token *first, struct statement *st)
{
	struct config_token tok = *first;

	*st = (struct statement){ .line = first->line };
	for (;;) {
		struct word *words = grown(p, st->words, st->nwords, &st->cap, sizeof(*words));

		if (!words) {
			free(tok.text);
			return oom(p, st->line);
		}
		st->words = words;
		if (st->nwords >= 2)
			st->value_len++; /* the blank before this word */
		if (st->nwords >= 1)
			st->value_len += tok.len;
		st->words[st->nwords++] = (struct word){ .s = tok.text, .len = tok.len };
		if (next_token(p, &tok) < 0)
			return -1;
		if (tok.kind == CONFIG_TOK_WORD)
			continue;
		if (tok.kind == CONFIG_TOK_LBRACE)
			st->opens_body = true;
		else if (tok.kind == CONFIG_TOK_RBRACE || tok.kind == CONFIG_TOK_EOF)
			push_back(p, &tok);
		return 0;
	}
}

/* ------------------------------------------------------------------ */
/* Tree building. */

/* What parse_body() keeps about the block it fills while it fills it. */
struct body {
	struct config_block *b;
	unsigned attrs_cap, children_cap;
	struct seen_set attr_names;
	struct seen_set child_names; /* DEVICE names are in parser.devices */
};

/* SCST's list attributes: given once per value (iscsi-scst's IncomingUser
 * and allowed_portal), so they may repeat. */
static bool is_list_attr(const char *name)
{
	return strcmp(name, "IncomingUser") == 0 || strcmp(name, "allowed_portal") == 0;
}

static void block_free(struct config_block *b)
{
	for (unsigned i = 0; i < b->nattrs; i++) {
		free(b->attrs[i].name);
		free(b->attrs[i].value);
	}
	free(b->attrs);
	for (unsigned i = 0; i < b->nchildren; i++)
		block_free(&b->children[i]);
	free(b->children);
	free(b->name);
	free(b->device);
}

/* The attribute's value: words[1..] joined with single blanks, in one
 * pass over lengths read_statement() already knows. */
static char *join_value(struct parser *p, const struct statement *st)
{
	char *s = malloc(st->value_len + 1), *at = s;

	if (!s)
		return NULL;
	for (unsigned i = 1; i < st->nwords; i++) {
		if (i > 1)
			*at++ = ' ';
		memcpy(at, st->words[i].s, st->words[i].len);
		at += st->words[i].len;
	}
	*at = '\0';
	assert((size_t)(at - s) == st->value_len);
	p->work += st->value_len;
	return s;
}

static int add_attr(struct parser *p, struct body *body, struct statement *st)
{
	struct config_block *b = body->b;
	struct config_attr *attrs;
	char *value;

	if (st->opens_body) {
		config_errorf(p->err, p->errlen, p->filename, st->line, "unknown section '%s'",
			      st->words[0].s);
		return -1;
	}
	if (!is_list_attr(st->words[0].s)) {
		int first = seen_add(&body->attr_names, b->section, st->words[0].s, 0, st->line,
				     &p->work);

		if (first < 0)
			return oom(p, st->line);
		if (first) {
			config_errorf(p->err, p->errlen, p->filename, st->line,
				      "duplicate attribute '%s' (first given on line %d)",
				      st->words[0].s, first);
			return -1;
		}
	}
	attrs = grown(p, b->attrs, b->nattrs, &body->attrs_cap, sizeof(*attrs));
	if (!attrs)
		return oom(p, st->line);
	b->attrs = attrs;
	value = join_value(p, st);
	if (!value)
		return oom(p, st->line);
	b->attrs[b->nattrs++] = (struct config_attr){
		.name = st->words[0].s, .value = value, .line = st->line
	};
	st->words[0].s = NULL; /* now owned by the tree */
	return 0;
}

/* "LUN <number> <device>": a decimal number up to CONFIG_MAX_LUN. */
static int parse_lun_number(struct parser *p, const struct statement *st, uint64_t *lun)
{
	const char *s = st->words[1].s;
	uint64_t v = 0;

	if (*s == '\0')
		goto bad;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			goto bad;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > CONFIG_MAX_LUN)
			goto bad;
	}
	*lun = v;
	return 0;
bad:
	config_errorf(p->err, p->errlen, p->filename, st->line,
		      "bad LUN number '%s' (0 to %u)", st->words[1].s, CONFIG_MAX_LUN);
	return -1;
}

/* Checks a section statement against its rule: placement, support,
 * arguments. */
static int check_section(struct parser *p, const struct config_block *parent,
			 const struct section_rule *rule, const struct statement *st)
{
	const char *where = parent->section == CONFIG_ROOT ? "at the top level" : NULL;

	if (!(rule->parents & IN(parent->section))) {
		if (where)
			config_errorf(p->err, p->errlen, p->filename, st->line,
				      "%s is not allowed %s", rule->keyword, where);
		else
			config_errorf(p->err, p->errlen, p->filename, st->line,
				      "%s is not allowed inside %s", rule->keyword,
				      parent->keyword);
		return -1;
	}
	if (rule->unsupported) {
		config_errorf(p->err, p->errlen, p->filename, st->line,
			      "%s blocks are not supported yet", rule->keyword);
		return -1;
	}
	if (st->nwords - 1 != rule->nargs) {
		if (rule->nargs == 2)
			config_errorf(p->err, p->errlen, p->filename, st->line,
				      "%s takes a number and a device name", rule->keyword);
		else
			config_errorf(p->err, p->errlen, p->filename, st->line,
				      "%s takes exactly one name", rule->keyword);
		return -1;
	}
	if (st->opens_body && !rule->body_allowed) {
		config_errorf(p->err, p->errlen, p->filename, st->line,
			      "%s takes no '{' block", rule->keyword);
		return -1;
	}
	return 0;
}

static int parse_body(struct parser *p, struct config_block *b);

/* A section given twice (the same DEVICE anywhere in the file, the same
 * TARGET in one driver, the same LUN in one target, ...) is an error naming
 * both lines, not two objects of which the second fails or wins. The name
 * is recorded while still in @st; the tree takes it over unmoved. */
static int check_unique_section(struct parser *p, struct body *body,
				const struct section_rule *rule, const struct statement *st,
				uint64_t lun)
{
	/* A DEVICE line of a DEVICE_GROUP names a device of a HANDLER: unique
	 * within its group only. */
	bool handler_device = rule->section == CONFIG_DEVICE && body->b->section == CONFIG_HANDLER;
	struct seen_set *set = handler_device ? &p->devices : &body->child_names;
	const char *name = rule->section == CONFIG_LUN ? NULL : st->words[1].s;
	int first = seen_add(set, rule->section, name, lun, st->line, &p->work);

	if (first < 0)
		return oom(p, st->line);
	if (!first)
		return 0;
	if (name)
		config_errorf(p->err, p->errlen, p->filename, st->line,
			      "duplicate %s '%s' (first given on line %d)", rule->keyword, name,
			      first);
	else
		config_errorf(p->err, p->errlen, p->filename, st->line,
			      "duplicate LUN %llu (first given on line %d)",
			      (unsigned long long)lun, first);
	return -1;
}

static int add_section(struct parser *p, struct body *body, const struct section_rule *rule,
		       struct statement *st)
{
	struct config_block *parent = body->b, *children, *child;
	uint64_t lun = 0;

	if (check_section(p, parent, rule, st) < 0)
		return -1;
	if (rule->section == CONFIG_LUN && parse_lun_number(p, st, &lun) < 0)
		return -1;
	if (check_unique_section(p, body, rule, st, lun) < 0)
		return -1;
	children = grown(p, parent->children, parent->nchildren, &body->children_cap,
			 sizeof(*children));
	if (!children)
		return oom(p, st->line);
	parent->children = children;
	child = &children[parent->nchildren++];
	*child = (struct config_block){
		.section = rule->section,
		.keyword = rule->keyword,
		.line = st->line,
		.lun = lun,
	};
	if (rule->section == CONFIG_LUN) {
		child->device = st->words[2].s;
		st->words[2].s = NULL;
	} else {
		child->name = st->words[1].s;
		st->words[1].s = NULL;
	}
	/* The child's arrays are its own: parent->children does not move
	 * while the body is parsed, so @child stays valid. */
	return st->opens_body ? parse_body(p, child) : 0;
}

static int parse_statement(struct parser *p, struct body *body, struct config_token *first)
{
	struct statement st;
	const struct section_rule *rule;
	int rc;

	if (read_statement(p, first, &st) < 0) {
		statement_free(&st);
		return -1;
	}
	rule = find_rule(st.words[0].s);
	rc = rule ? add_section(p, body, rule, &st) : add_attr(p, body, &st);
	statement_free(&st);
	return rc;
}

/* Parses statements into @b until its closing '}' (or the end of the file,
 * for the root). */
static int parse_body_statements(struct parser *p, struct body *body)
{
	struct config_block *b = body->b;
	struct config_token tok;

	for (;;) {
		if (next_token(p, &tok) < 0)
			return -1;
		switch (tok.kind) {
		case CONFIG_TOK_END:
			continue;
		case CONFIG_TOK_EOF:
			if (b->section == CONFIG_ROOT)
				return 0;
			config_errorf(p->err, p->errlen, p->filename, b->line,
				      "missing '}' for %s %s", b->keyword,
				      b->name ? b->name : b->device);
			return -1;
		case CONFIG_TOK_RBRACE:
			if (b->section != CONFIG_ROOT)
				return 0;
			config_errorf(p->err, p->errlen, p->filename, tok.line,
				      "unexpected '}'");
			return -1;
		case CONFIG_TOK_LBRACE:
			config_errorf(p->err, p->errlen, p->filename, tok.line,
				      "'{' must follow a section name on the same line");
			return -1;
		case CONFIG_TOK_WORD:
			if (parse_statement(p, body, &tok) < 0)
				return -1;
			continue;
		}
	}
}

static int parse_body(struct parser *p, struct config_block *b)
{
	struct body body = { .b = b };
	int rc = parse_body_statements(p, &body);

	seen_free(&body.attr_names);
	seen_free(&body.child_names);
	return rc;
}

struct config_tree *config_parse_string(const char *text, const char *filename, char *err,
					size_t errlen)
{
	struct config_tree *tree = calloc(1, sizeof(*tree));
	struct parser p = { .err = err, .errlen = errlen };
	int rc;

	if (tree)
		tree->filename = strdup(filename);
	if (!tree || !tree->filename) {
		config_errorf(err, errlen, filename, 0, "out of memory");
		free(tree);
		return NULL;
	}
	tree->root = (struct config_block){ .section = CONFIG_ROOT, .keyword = "" };
	p.filename = tree->filename;
	config_lexer_init(&p.lx, text, tree->filename);
	rc = parse_body(&p, &tree->root);
	seen_free(&p.devices);
	if (rc < 0) {
		if (p.have_ahead)
			free(p.ahead.text);
		config_free(tree);
		return NULL;
	}
	tree->parse_work = p.lx.work + p.work;
	return tree;
}

/* Reads the whole of @path as a C string; NUL bytes are refused. */
static char *read_text_file(const char *path, char *err, size_t errlen)
{
	struct stat sb;
	char *text = NULL;
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &sb) < 0)
		goto sys_error;
	if (!S_ISREG(sb.st_mode) || (uint64_t)sb.st_size > CONFIG_MAX_FILE_SIZE) {
		config_errorf(err, errlen, path, 0, "not a regular file of at most %u bytes",
			      CONFIG_MAX_FILE_SIZE);
		goto fail;
	}
	text = malloc((size_t)sb.st_size + 1);
	if (!text)
		goto sys_error;
	while (len < (size_t)sb.st_size) {
		ssize_t n = read(fd, text + len, (size_t)sb.st_size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto sys_error;
		if (n == 0)
			break; /* the file shrank meanwhile */
		len += (size_t)n;
	}
	text[len] = '\0';
	if (strlen(text) != len) {
		config_errorf(err, errlen, path, 0, "contains a NUL byte");
		goto fail;
	}
	close(fd);
	return text;
sys_error:
	config_errorf(err, errlen, path, 0, "%s", strerror(errno));
fail:
	free(text);
	if (fd >= 0)
		close(fd);
	return NULL;
}

struct config_tree *config_parse_file(const char *path, char *err, size_t errlen)
{
	char *text = read_text_file(path, err, errlen);
	struct config_tree *tree;

	if (!text)
		return NULL;
	tree = config_parse_string(text, path, err, errlen);
	free(text);
	return tree;
}

void config_free(struct config_tree *tree)
{
	if (!tree)
		return;
	block_free(&tree->root);
	free(tree->filename);
	free(tree);
}

const struct config_attr *config_find_attr(const struct config_block *block, const char *name)
{
	for (unsigned i = 0; i < block->nattrs; i++)
		if (strcmp(block->attrs[i].name, name) == 0)
			return &block->attrs[i];
	return NULL;
}

/* ---- copying ---- */

static int block_copy(struct config_block *dst, const struct config_block *src)
{
	*dst = *src;
	dst->attrs = NULL;
	dst->children = NULL;
	dst->nattrs = dst->nchildren = 0;
	dst->name = src->name ? strdup(src->name) : NULL;
	dst->device = src->device ? strdup(src->device) : NULL;
	if ((src->name && !dst->name) || (src->device && !dst->device))
		return -1;
	if (src->nattrs && !(dst->attrs = calloc(src->nattrs, sizeof(*dst->attrs))))
		return -1;
	for (unsigned i = 0; i < src->nattrs; i++, dst->nattrs++) {
		dst->attrs[i] = src->attrs[i];
		dst->attrs[i].name = strdup(src->attrs[i].name);
		dst->attrs[i].value = strdup(src->attrs[i].value);
		if (!dst->attrs[i].name || !dst->attrs[i].value) {
			dst->nattrs++;
			return -1;
		}
	}
	if (src->nchildren && !(dst->children = calloc(src->nchildren, sizeof(*dst->children))))
		return -1;
	for (unsigned i = 0; i < src->nchildren; i++) {
		dst->nchildren++;
		if (block_copy(&dst->children[i], &src->children[i]) < 0)
			return -1;
	}
	return 0;
}

struct config_tree *config_copy(const struct config_tree *tree)
{
	struct config_tree *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->filename = strdup(tree->filename);
	if (!t->filename || block_copy(&t->root, &tree->root) < 0) {
		config_free(t);
		return NULL;
	}
	return t;
}
