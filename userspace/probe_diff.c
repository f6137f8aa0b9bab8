// SPDX-License-Identifier: GPL-2.0
/* Sent against received, header by header; see probe_diff.h. */
#include "probe_diff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sip_core.h"

static const char *const kind_names[] = {
	[CHANGE_ADDRESS] = "address-rewritten",
	[CHANGE_PORT] = "port-rewritten",
	[CHANGE_ADDRESS_PORT] = "address-and-port-rewritten",
	[CHANGE_LENGTH_FOLLOWS] = "content-length-updated",
	[CHANGE_REWRITTEN] = "rewritten",
	[CHANGE_ADDED] = "header-added",
	[CHANGE_REMOVED] = "header-removed",
	[CHANGE_LENGTH_WRONG] = "content-length-wrong",
	[CHANGE_CORRUPTED] = "corrupted",
	[CHANGE_DROPPED] = "dropped",
	[CHANGE_REPLY_FORGED] = "reply-forged",
	[CHANGE_REPLY_REWRITTEN] = "reply-rewritten",
};

const char *change_kind_name(enum change_kind kind)
{
	return kind_names[kind];
}

static char *dup_text(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

void changes_add(struct change_list *l, const char *message, const char *transport,
		 const char *field, enum change_kind kind, const char *sent,
		 size_t sent_len, const char *received, size_t received_len)
{
	struct change *c;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct change *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return;
		l->v = v;
		l->cap = cap;
	}
	c = &l->v[l->n++];
	c->message = message;
	c->transport = transport;
	snprintf(c->field, sizeof(c->field), "%s", field);
	c->kind = kind;
	c->harmful = kind >= CHANGE_REWRITTEN;
	c->sent = dup_text(sent, sent_len);
	c->received = dup_text(received, received_len);
}

void changes_free(struct change_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].sent);
		free(l->v[i].received);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* A line of a message: [off, off + len) without its line end. */
struct line {
	size_t off, len;
	size_t name_len;	/* header lines: the name before ':' */
};

#define MAX_LINES	(SIP_MAX_HEADERS + 64)

/*
 * The lines of buf[from .. to) (CRLF or LF ends), at most MAX_LINES; stops
 * at the first empty line when @headers (and says where the body starts).
 */
static size_t split_lines(const uint8_t *buf, size_t from, size_t to, bool headers,
			  struct line *v, size_t *body)
{
	size_t n = 0, pos = from;

	*body = to;
	while (pos < to && n < MAX_LINES) {
		const uint8_t *nl = memchr(buf + pos, '\n', to - pos);
		size_t end = nl ? (size_t)(nl - buf) : to, len = end - pos;
		const uint8_t *colon;

		if (len && buf[end - 1] == '\r')
			len--;
		if (headers && !len) {
			*body = nl ? end + 1 : to;
			break;
		}
		colon = memchr(buf + pos, ':', len);
		v[n].off = pos;
		v[n].len = len;
		v[n].name_len = colon ? (size_t)(colon - buf) - pos : 0;
		while (v[n].name_len && buf[pos + v[n].name_len - 1] == ' ')
			v[n].name_len--;
		n++;
		pos = nl ? end + 1 : to;
	}
	return n;
}

static bool same_name(const uint8_t *a, const struct line *la,
		      const uint8_t *b, const struct line *lb)
{
	return la->name_len && la->name_len == lb->name_len &&
	       !strncasecmp((const char *)a + la->off, (const char *)b + lb->off, la->name_len);
}

/* [from, to) inside [start, end]: an insertion at a span's edge counts as inside. */
static bool within(size_t from, size_t to, size_t start, size_t end)
{
	return from >= start && to <= end;
}

static int hostport_kind(const struct sip_hostport *hp, size_t from, size_t to)
{
	size_t host_end = hp->host.off + hp->host.len;
	size_t end = hp->port.len ? hp->port.off + hp->port.len : host_end;

	if (!hp->host.len || !within(from, to, hp->host.off, end))
		return -1;
	if (within(from, to, hp->host.off, host_end))
		return CHANGE_ADDRESS;
	if (hp->port.len && within(from, to, hp->port.off, end))
		return CHANGE_PORT;
	return CHANGE_ADDRESS_PORT;
}

/*
 * The kind of an allowed change of sent[from, to), or -1 if no span an
 * ALG may rewrite holds it.
 */
static int allowed_kind(const struct sip_msg *m, size_t from, size_t to)
{
	unsigned int i;
	int k;

	for (i = 0; i < m->n_vias; i++)
		if ((k = hostport_kind(&m->via[i].sent_by, from, to)) >= 0)
			return k;
	for (i = 0; i < m->n_contacts; i++)
		if (!m->contact[i].star && !m->contact[i].nonsip &&
		    (k = hostport_kind(&m->contact[i].hp, from, to)) >= 0)
			return k;
	for (i = 0; i < m->n_media; i++) {
		const struct sip_span *c = &m->media[i].conn.addr;

		if (within(from, to, m->media[i].port.off, m->media[i].port.off + m->media[i].port.len))
			return CHANGE_PORT;
		if (c->len && within(from, to, c->off, c->off + c->len))
			return CHANGE_ADDRESS;
	}
	for (i = 0; i < m->n_sdp; i++) {
		const struct sip_span *c = &m->sdp[i].conn.addr;

		if (c->len && within(from, to, c->off, c->off + c->len))
			return CHANGE_ADDRESS;
	}
	return -1;
}

static const char *const canonical[SIP_HDR__COUNT] = {
	[SIP_HDR_VIA] = "Via", [SIP_HDR_CONTACT] = "Contact",
	[SIP_HDR_CONTENT_LENGTH] = "Content-Length", [SIP_HDR_CONTENT_TYPE] = "Content-Type",
	[SIP_HDR_CALL_ID] = "Call-ID", [SIP_HDR_CSEQ] = "CSeq", [SIP_HDR_EXPIRES] = "Expires",
	[SIP_HDR_FROM] = "From", [SIP_HDR_TO] = "To",
};

/* The header's name as users know it (the long form of a compact one). */
static void header_field(const struct sip_msg *m, const uint8_t *buf,
			 const struct line *l, char *out, size_t cap)
{
	unsigned int i;

	for (i = 0; i < m->n_headers; i++)
		if (m->hdr[i].name.off == l->off && m->hdr[i].id != SIP_HDR_OTHER) {
			snprintf(out, cap, "%s", canonical[m->hdr[i].id]);
			return;
		}
	snprintf(out, cap, "%.*s", (int)l->name_len, (const char *)buf + l->off);
}

static bool is_header(const struct sip_msg *m, const struct line *l, enum sip_hdr_id id)
{
	unsigned int i;

	for (i = 0; i < m->n_headers; i++)
		if (m->hdr[i].name.off == l->off)
			return m->hdr[i].id == id;
	return false;
}

struct pair {
	struct change_list *l;
	const char *message, *transport;
	const uint8_t *s, *r;		/* sent, received */
	size_t slen, rlen;
	const struct sip_msg *sm;	/* sent, parsed */
	const struct sip_msg *rm;	/* received, parsed (NULL when it does not) */
};

static void add(const struct pair *p, const char *field, enum change_kind kind,
		const struct line *sl, const struct line *rl)
{
	changes_add(p->l, p->message, p->transport, field, kind,
		    sl ? (const char *)p->s + sl->off : "", sl ? sl->len : 0,
		    rl ? (const char *)p->r + rl->off : "", rl ? rl->len : 0);
}

/*
 * Two lines that differ: allowed (inside one rewritable span of the message
 * sent) or a harm.  In a message that no longer parses the same holds line
 * by line: the damage itself is named apart (CHANGE_CORRUPTED, with the
 * parser's reason), so a Contact whose address alone changed is not called
 * changed beyond it.
 */
static void compare_lines(const struct pair *p, const char *field,
			  const struct line *sl, const struct line *rl)
{
	size_t pre = 0, suf = 0, min = sl->len < rl->len ? sl->len : rl->len;
	int kind;

	if (sl->len == rl->len && !memcmp(p->s + sl->off, p->r + rl->off, sl->len))
		return;
	while (pre < min && p->s[sl->off + pre] == p->r[rl->off + pre])
		pre++;
	while (suf < min - pre &&
	       p->s[sl->off + sl->len - 1 - suf] == p->r[rl->off + rl->len - 1 - suf])
		suf++;
	kind = allowed_kind(p->sm, sl->off + pre, sl->off + sl->len - suf);
	add(p, field, kind >= 0 ? (enum change_kind)kind : CHANGE_REWRITTEN, sl, rl);
}

static void compare_header(const struct pair *p, const struct line *sl, const struct line *rl)
{
	char field[32];

	header_field(p->sm, p->s, sl, field, sizeof(field));
	if (is_header(p->sm, sl, SIP_HDR_CONTENT_LENGTH)) {
		if (sl->len == rl->len && !memcmp(p->s + sl->off, p->r + rl->off, sl->len))
			return;
		/* the core refuses a Content-Length over the body; UDP: not under it either */
		add(p, field, p->rm && p->rm->content_length == p->rlen - p->rm->hdr_end ?
			CHANGE_LENGTH_FOLLOWS : CHANGE_LENGTH_WRONG, sl, rl);
		return;
	}
	compare_lines(p, field, sl, rl);
}

/* Headers in order; one the ALG added or removed is skipped over. */
static void compare_headers(const struct pair *p, const struct line *sv, size_t sn,
			    const struct line *rv, size_t rn)
{
	size_t i, j = 0, k;
	char field[32];

	for (i = 0; i < sn; i++) {
		for (k = j; k < rn && !same_name(p->s, &sv[i], p->r, &rv[k]); k++)
			;
		if (k == rn) {
			header_field(p->sm, p->s, &sv[i], field, sizeof(field));
			add(p, field, CHANGE_REMOVED, &sv[i], NULL);
			continue;
		}
		for (; j < k; j++) {
			snprintf(field, sizeof(field), "%.*s", (int)rv[j].name_len,
				 (const char *)p->r + rv[j].off);
			add(p, field, CHANGE_ADDED, NULL, &rv[j]);
		}
		compare_header(p, &sv[i], &rv[k]);
		j = k + 1;
	}
	for (; j < rn; j++) {
		snprintf(field, sizeof(field), "%.*s", (int)rv[j].name_len,
			 (const char *)p->r + rv[j].off);
		add(p, field, CHANGE_ADDED, NULL, &rv[j]);
	}
}

static void compare_body(const struct pair *p, size_t sbody, size_t rbody)
{
	static struct line sv[MAX_LINES], rv[MAX_LINES];
	size_t sn, rn, i, unused;
	struct line sall = { sbody, p->slen - sbody, 0 }, rall = { rbody, p->rlen - rbody, 0 };

	if (sall.len == rall.len && !memcmp(p->s + sbody, p->r + rbody, sall.len))
		return;
	sn = split_lines(p->s, sbody, p->slen, false, sv, &unused);
	rn = split_lines(p->r, rbody, p->rlen, false, rv, &unused);
	if (!p->sm->n_sdp || sn != rn) {
		add(p, p->sm->n_sdp ? "SDP" : "body", CHANGE_REWRITTEN, &sall, &rall);
		return;
	}
	for (i = 0; i < sn; i++) {
		char field[32];

		if (sv[i].len >= 7 && !memcmp(p->s + sv[i].off, "a=rtcp:", 7))
			snprintf(field, sizeof(field), "SDP a=rtcp");
		else
			snprintf(field, sizeof(field), "SDP %.*s", sv[i].len >= 2 ? 2 : 0,
				 (const char *)p->s + sv[i].off);
		compare_lines(p, field, &sv[i], &rv[i]);
	}
}

void diff_message(struct change_list *l, const char *message, bool tcp,
		  const uint8_t *sent, size_t sent_len,
		  const uint8_t *received, size_t received_len)
{
	static struct sip_msg sm, rm;
	static struct line sv[MAX_LINES], rv[MAX_LINES];
	unsigned int flags = tcp ? SIP_PARSE_STREAM : 0;
	struct pair p = { l, message, tcp ? "TCP" : "UDP", sent, received,
			  sent_len, received_len, &sm, &rm };
	enum sip_reason reason;
	size_t sn, rn, sbody, rbody;
	struct line sstart, rstart;

	if (sent_len == received_len && !memcmp(sent, received, sent_len))
		return;
	if (sip_parse(sent, sent_len, flags, &sm) != SIP_OK)
		return;		/* the probe's own messages always parse */
	reason = sip_parse(received, received_len, flags, &rm);
	if (reason != SIP_OK) {
		const char *name = sip_reason_name(reason);

		p.rm = NULL;
		changes_add(l, message, p.transport, "message", CHANGE_CORRUPTED,
			    "", 0, name, strlen(name));
	}
	sn = split_lines(sent, 0, sent_len, true, sv, &sbody);
	rn = split_lines(received, 0, received_len, true, rv, &rbody);
	if (!sn || !rn)
		return;
	sstart = sv[0];
	rstart = rv[0];
	sstart.name_len = rstart.name_len = 0;
	compare_lines(&p, sm.is_request ? "Request-URI" : "status line", &sstart, &rstart);
	compare_headers(&p, sv + 1, sn - 1, rv + 1, rn - 1);
	compare_body(&p, sbody, rbody);
}
