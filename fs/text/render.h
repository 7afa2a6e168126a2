/*
 * fs/text/render.h - the text format of SPEC section 4, and safe text.
 *
 * One message is
 *     [YYYY-MM-DD HH:MM:SS] Sender: first line
 *       further line
 * with the time in the process's local time zone (TZ respected). A message
 * whose type is not "TEXT" shows it after the sender, "Sender (SYSTEM)",
 * followed by ": text" only when it has text. A TEXT message without text
 * (nothing left once trailing newlines are dropped) is "[...] Sender:" with
 * no trailing space. Every line ends with "\n".
 *
 * Text from the network is untrusted. render_safe() copies valid UTF-8
 * unchanged (emoji, accents, CJK, right-to-left), shows C0 controls other
 * than \t and \n (NUL included: "\x00"), DEL and C1 controls
 * (U+0080..U+009F) as "\xHH", and replaces each maximal invalid UTF-8
 * subsequence (overlong forms, surrogates, code points above U+10FFFF,
 * truncated sequences, stray continuation bytes) with U+FFFD. "\r\n" in
 * message text counts as one newline.
 *
 * The bidirectional embedding, override and isolate controls (U+202A..U+202E
 * LRE RLE PDF LRO RLO, U+2066..U+2069 LRI RLI FSI PDI) are shown as
 * "<U+202E>": left raw, an unclosed override reorders what follows it on
 * screen ("Trojan Source"), so the bytes a grep finds are not what a reader
 * sees. The marks U+200E, U+200F and U+061C pass unchanged: they open no
 * scope, only settle the direction of the neutral characters next to them,
 * and right-to-left writers use them in ordinary text.
 *
 * All functions are pure and thread-safe (localtime_r).
 */
#ifndef LINKUPFS_RENDER_H
#define LINKUPFS_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../api/api.h"
#include "buf.h"

/* Whether cp is one of the bidirectional controls shown as "<U+XXXX>". */
bool render_is_bidi_control(uint32_t cp);

/* Append s[0..len) made safe. With keep_newlines false, "\n" is shown as
 * "\x0a" too (for one-line fields such as the sender). */
void render_safe(struct buf *out, const char *s, size_t len,
		 bool keep_newlines);

/* Format ms since the epoch as "YYYY-MM-DD HH:MM:SS" local time into out
 * (32 bytes: the 19 of the format, and room for what a clamped year may
 * need). Negative ms are floored (-1 is one second before
 * the epoch); times outside years 0001..9999 are clamped to that range;
 * never fails. Uses the zone of the last tzset() (call it once at start). */
void render_time(int64_t ms, char out[32]);

/* Append one message in the format above: its text is m->text[0..text_len)
 * (NUL bytes shown as "\x00"), its other fields end at their NUL. Trailing
 * newlines of the text are dropped; interior empty lines are kept, indented
 * like the others. */
void render_message(struct buf *out, const struct api_message *m);

/* Append the messages of a page as a page file shows them: oldest first,
 * i.e. msgs[n-1] down to msgs[0] (the API sends newest first). */
void render_messages(struct buf *out, const struct api_message *msgs, size_t n);

#endif
