/*
 * scan/html.h - the text a reader sees in an HTML body, for content rules.
 *
 * scan_html_to_text() turns HTML into plain UTF-8 text so that keyword
 * rules match what is rendered, not the markup that spells it:
 *
 *  - Tags are removed. Block-level tags (p, br, div, li, tr, h1-h6, table,
 *    title, ...) become a line break, table cells a space; inline tags (b,
 *    span, a, font, unknown tags, ...) become nothing, so "fr<b>ee</b>" is
 *    "free". Tags are tokenized as browsers do (WHATWG tokenizer): quoted
 *    attribute values may contain '>', "<scr<script>ipt>" is the unknown
 *    tag "scr<script" followed by the text "ipt>", a tag cut off by the end
 *    of input is dropped, '<' not followed by a letter, '/', '!' or '?' is
 *    text.
 *  - Comments (including unterminated ones, "<!-->" and "--!>" endings),
 *    doctypes, processing instructions and bogus comments are dropped.
 *    <![CDATA[...]]> content is kept as literal text (it is visible inside
 *    SVG/MathML, and keeping it cannot hide words).
 *  - The content of script, style, iframe, noembed and noframes is dropped
 *    up to the matching end tag (to the end of input if there is none).
 *    title and textarea are kept as text with character references
 *    decoded and no tags; xmp content is kept literally; after <plaintext>
 *    everything is literal text.
 *  - Character references are decoded: the HTML 4 named set (252) plus
 *    &apos;, the legacy names (Latin-1, amp, lt, gt, quot, AMP, LT, GT,
 *    QUOT, COPY, REG) also without ';' by longest prefix; decimal and hex
 *    numeric references with or without ';'. 0, surrogates and values
 *    above U+10FFFF become U+FFFD; 0x80-0x9F map through windows-1252 as
 *    browsers do.
 *  - Invisible characters are removed, whether literal UTF-8 or from a
 *    reference: C0/C1 controls other than whitespace, NUL, DEL, soft
 *    hyphen, U+200B-U+200D, U+2060 and U+FEFF; so "fr&shy;ee" is "free".
 *    No-break spaces (U+00A0) count as whitespace.
 *  - Whitespace is collapsed: a run of whitespace and separators becomes
 *    one "\n" if it contains a line break from a block tag, else one " ".
 *    No leading or trailing whitespace.
 *
 * Input is taken to be UTF-8 already (charset conversion comes before);
 * other bytes pass through unchanged. Linear time, no recursion.
 *
 * All functions are reentrant; they allocate only from the arena given.
 */
#ifndef SLUICE_SCAN_HTML_H
#define SLUICE_SCAN_HTML_H

#include <stddef.h>
#include <stdint.h>

#include "scan/arena.h"

/* Render in[0..n) as text (see above). On success *out points to
 * *outlen bytes in the arena, followed by a NUL that *outlen does not
 * count; *outlen <= n. The buffer lives until the arena's reset.
 * in may be NULL when n is 0. Returns 0, or -ENOMEM when the arena cannot
 * provide n + 1 bytes (*out and *outlen are then left untouched). */
int scan_html_to_text(const uint8_t *in, size_t n, struct scan_arena *a,
		      uint8_t **out, size_t *outlen);

/* The link targets of in[0..n): the values of the href, src, action,
 * formaction, background and poster attributes of start tags, with
 * character references decoded and surrounding whitespace removed, one
 * per line ("\n" after each), in document order; empty values are
 * skipped. Tags inside dropped or literal content (script, comments, ...)
 * are not tags and give no links. Output, lifetime and errors as for
 * scan_html_to_text(); *outlen <= n. */
int scan_html_links(const uint8_t *in, size_t n, struct scan_arena *a,
		    uint8_t **out, size_t *outlen);

/* Does d[0..n) look like HTML? For a text/plain part whose content is
 * HTML. Looks at the first 4 KiB only: true when, after an optional BOM
 * and whitespace, it starts with a tag browsers sniff as HTML (<!doctype
 * html, <html, <head, <body, <script, <iframe, <h1, <div, <font, <table,
 * <a, <style, <title, <b, <br, <p, <!--), or when <html, <body or
 * <!doctype html appear anywhere in it, or when it has at least 3 tags of
 * common HTML elements. Returns 1 or 0. */
int scan_html_detect(const uint8_t *d, size_t n);

#endif
