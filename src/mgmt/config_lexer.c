/* scst.conf tokens: see config_lexer.h for the rules. */
#include "mgmt/config_lexer.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "mgmt/config.h"

void config_lexer_init(struct config_lexer *lx, const char *text, const char *filename)
{
	lx->pos = text;
	lx->line = 1;
	lx->filename = filename;
	lx->work = 0;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* A character that ends an unquoted run of word characters. */
static bool ends_word(char c)
{
	return c == '\0' || c == '\n' || is_blank(c) || c == '{' || c == '}' || c == ';' ||
	       c == '#';
}

/* A growing word buffer. Its capacity doubles, so a word of n bytes
 * costs O(n) however long it is. */
struct word_buf {
	char *s;
	size_t len, cap;
};

static int word_putc(struct config_lexer *lx, struct word_buf *w, char c)
{
	if (w->len + 1 >= w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 32;
		char *s = realloc(w->s, cap);

		if (!s)
			return -1;
		lx->work += w->len; /* what realloc may have moved */
		w->s = s;
		w->cap = cap;
	}
	w->s[w->len++] = c;
	w->s[w->len] = '\0';
	lx->work++;
	return 0;
}

static void skip_blanks_and_comment(struct config_lexer *lx)
{
	while (is_blank(*lx->pos))
		lx->pos++;
	if (*lx->pos == '#')
		while (*lx->pos != '\0' && *lx->pos != '\n')
			lx->pos++;
}

/* Reads one word starting at lx->pos (a word character, quote or
 * backslash) into @w. */
static int read_word(struct config_lexer *lx, struct word_buf *w, char *err, size_t errlen)
{
	bool in_quote = false;

	for (;;) {
		char c = *lx->pos;

		if (!in_quote && ends_word(c))
			return 0;
		if (c == '\0' || c == '\n') {
			config_errorf(err, errlen, lx->filename, lx->line,
				      "unterminated quoted string");
			return -1;
		}
		lx->pos++;
		if (c == '"') {
			in_quote = !in_quote;
			continue;
		}
		if (c == '\\') {
			c = *lx->pos;
			if (c == '\0' || c == '\n') {
				config_errorf(err, errlen, lx->filename, lx->line,
					      "backslash at the end of a line");
				return -1;
			}
			lx->pos++;
		}
		if (word_putc(lx, w, c) < 0) {
			config_errorf(err, errlen, lx->filename, lx->line, "out of memory");
			return -1;
		}
	}
}

int config_lexer_next(struct config_lexer *lx, struct config_token *tok, char *err,
		      size_t errlen)
{
	struct word_buf w = { 0 };

	skip_blanks_and_comment(lx);
	tok->text = NULL;
	tok->len = 0;
	tok->line = lx->line;
	switch (*lx->pos) {
	case '\0':
		tok->kind = CONFIG_TOK_EOF;
		return 0;
	case '\n':
		lx->line++;
		/* fallthrough */
	case ';':
		lx->pos++;
		tok->kind = CONFIG_TOK_END;
		return 0;
	case '{':
		lx->pos++;
		tok->kind = CONFIG_TOK_LBRACE;
		return 0;
	case '}':
		lx->pos++;
		tok->kind = CONFIG_TOK_RBRACE;
		return 0;
	}
	if (read_word(lx, &w, err, errlen) < 0) {
		free(w.s);
		return -1;
	}
	if (!w.s) { /* "" is an empty word */
		w.s = strdup("");
		if (!w.s) {
			config_errorf(err, errlen, lx->filename, lx->line, "out of memory");
			return -1;
		}
	}
	tok->kind = CONFIG_TOK_WORD;
	tok->text = w.s;
	tok->len = w.len;
	return 0;
}
