/* scst.conf tokens. Internal to src/mgmt/config*.c.
 *
 * The text is a sequence of words, braces and statement ends:
 *   - blanks (space, tab, CR) separate words;
 *   - a newline or ';' ends a statement;
 *   - '{' and '}' are tokens of their own, wherever they stand;
 *   - '#' outside quotes starts a comment that runs to the end of the line;
 *   - "..." quotes blanks, braces, ';' and '#' into a word (one line only);
 *   - a backslash makes the next character literal ("\#", "\"", "\\"), and
 *     is itself dropped, as scstadmin does.
 * Quoted and unquoted pieces that touch form one word, as in a shell. */
#ifndef USCST_MGMT_CONFIG_LEXER_H
#define USCST_MGMT_CONFIG_LEXER_H

#include <stddef.h>

enum config_token_kind {
	CONFIG_TOK_WORD,
	CONFIG_TOK_LBRACE,
	CONFIG_TOK_RBRACE,
	CONFIG_TOK_END,  /* newline or ';' */
	CONFIG_TOK_EOF,
};

struct config_token {
	enum config_token_kind kind;
	char *text;    /* CONFIG_TOK_WORD: the word, malloc'ed; else NULL */
	size_t len;    /* strlen(text), so that nobody has to count again */
	unsigned line; /* where the token starts, from 1 */
};

struct config_lexer {
	const char *pos;
	unsigned line;
	const char *filename;
	/* Bytes written or moved into words so far: a measure of the
	 * lexer's work, which must stay linear in the input (see
	 * config_tree.parse_work). */
	size_t work;
};

void config_lexer_init(struct config_lexer *lx, const char *text, const char *filename);

/* Reads the next token. Returns 0, or -1 with "FILE:LINE: reason" in @err
 * (unterminated quote, backslash at the end, out of memory). The caller
 * frees tok->text. */
int config_lexer_next(struct config_lexer *lx, struct config_token *tok, char *err,
		      size_t errlen);

#endif
