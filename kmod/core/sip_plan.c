// SPDX-License-Identifier: GPL-2.0
/*
 * The rewrite planner: from a strict parse and the flow's translation to
 * the list of edits (only inside the allowed spans of docs/design.md
 * section 3), the new Content-Length and the pinholes the message announces.
 */
#include "sip_lex.h"

#define SIP_DEFAULT_PORT	5060

struct planner {
	const u8 *b;
	const struct sip_msg *msg;
	const struct sip_xlat *x;
	const struct sip_endpoint *from;	/* the address being replaced */
	const struct sip_endpoint *to;		/* what replaces it */
	struct sip_plan *plan;
	bool overflow;
	bool unsorted;		/* an edit before the one planned last */
	int body_delta;		/* length change of the body's edits */
	/* formatted once per message: "to" as in Via/Contact, external as in c= */
	char to_host[SIP_MAX_REPL_LEN];
	char to_port[8];
	char ext_bare[SIP_MAX_REPL_LEN];
	u8 to_host_len, to_port_len, ext_bare_len;
};

/*
 * n (1..SIP_MAX_REPL_LEN) bytes, a word or half-word at a time: the last
 * chunk overlaps the one before it, so only src[0 .. n) is read.
 */
static void copy_repl(char *dst, const char *src, size_t n)
{
	size_t i;
	u64 w;
	u32 h;

	if (n >= 8) {
		for (i = 0; i + 8 < n; i += 8) {
			memcpy(&w, src + i, 8);
			memcpy(dst + i, &w, 8);
		}
		memcpy(&w, src + n - 8, 8);
		memcpy(dst + n - 8, &w, 8);
	} else if (n >= 4) {
		memcpy(&h, src, 4);
		memcpy(dst, &h, 4);
		memcpy(&h, src + n - 4, 4);
		memcpy(dst + n - 4, &h, 4);
	} else {
		for (i = 0; i < n; i++)
			dst[i] = src[i];
	}
}

static void add_edit(struct planner *pl, u32 off, u32 len, u8 kind,
		     const char *repl, size_t rlen)
{
	struct sip_plan *plan = pl->plan;
	struct sip_edit *e;

	size_t i;

	/* an edit that changes nothing is no edit (they differ up front, mostly) */
	if (rlen == len && (!len || pl->b[off] == (u8)repl[0])) {
		for (i = 0; i < len && pl->b[off + i] == (u8)repl[i]; i++)
			;
		if (i == len)
			return;
	}
	if (plan->n_edits == SIP_MAX_EDITS || rlen > SIP_MAX_REPL_LEN) {
		pl->overflow = true;
		return;
	}
	if (plan->n_edits && off < plan->edit[plan->n_edits - 1].off)
		pl->unsorted = true;
	if (pl->msg->body.len && off >= pl->msg->body.off)
		pl->body_delta += (int)rlen - (int)len;
	e = &plan->edit[plan->n_edits++];
	e->off = (u16)off;
	e->len = (u16)len;
	e->kind = kind;
	e->repl_len = (u8)rlen;
	copy_repl(e->repl, repl, rlen);
	plan->delta += (int)rlen - (int)len;
}

/* Does host[:port] name the endpoint?  An absent port means 5060. */
static bool hp_matches(const struct sip_hostport *hp, const struct sip_endpoint *ep)
{
	u16 port = hp->port.len ? hp->portval : SIP_DEFAULT_PORT;

	return hp->host_kind != SIP_HOST_NAME && port == ep->port &&
	       sip_addr_eq(&hp->addr, &ep->addr);
}

/*
 * Rewrites host[:port] of a Via or Contact to pl->to.  Where no port was
 * written, none is added for 5060 (the default it meant) and ":port" is
 * inserted after the host otherwise.
 */
static u8 ndigits(u32 v)
{
	return v < 10 ? 1 : v < 100 ? 2 : v < 1000 ? 3 : v < 10000 ? 4 : 5;
}

static void edit_hostport(struct planner *pl, const struct sip_hostport *hp, u8 kind)
{
	char repl[SIP_MAX_REPL_LEN];
	size_t n;

	/* formatted on first use: most messages need no edit at all */
	if (!pl->to_host_len) {
		/* room for ":65535" after the host */
		pl->to_host_len = (u8)sip_addr_format(&pl->to->addr, true, pl->to_host,
						      sizeof(pl->to_host) - 6);
		if (!pl->to_host_len)
			return;
	}
	n = pl->to_host_len;

	if (hp->port.len) {
		add_edit(pl, hp->host.off, hp->host.len, kind, pl->to_host, n);
		/* the same value in as many digits is the same text: no edit */
		if (hp->portval == pl->to->port && hp->port.len == ndigits(pl->to->port))
			return;
		if (!pl->to_port_len)
			pl->to_port_len = sip_fmt_u32(pl->to->port, pl->to_port);
		add_edit(pl, hp->port.off, hp->port.len, kind, pl->to_port, pl->to_port_len);
		return;
	}
	copy_repl(repl, pl->to_host, n);
	if (pl->to->port != SIP_DEFAULT_PORT) {
		if (!pl->to_port_len)
			pl->to_port_len = sip_fmt_u32(pl->to->port, pl->to_port);
		repl[n++] = ':';
		copy_repl(repl + n, pl->to_port, pl->to_port_len);
		n += pl->to_port_len;
	}
	add_edit(pl, hp->host.off, hp->host.len, kind, repl, n);
}

/* TLS is never touched; WS sent-by is a placeholder; others are unknown. */
static bool via_rewritable(const struct sip_via *v)
{
	return v->transport == SIP_TP_UDP || v->transport == SIP_TP_TCP ||
	       v->transport == SIP_TP_SCTP;
}

static void plan_via(struct planner *pl)
{
	const struct sip_msg *msg = pl->msg;
	const struct sip_via *v = &msg->via[0];
	/* the NATed party's own Via: on its requests, or coming back in responses */
	bool ours = pl->x->side == SIP_SENDER_NATED ? msg->is_request : !msg->is_request;

	if (ours && msg->n_vias && via_rewritable(v) && hp_matches(&v->sent_by, pl->from))
		edit_hostport(pl, &v->sent_by, SIP_EDIT_VIA);
}

static void plan_contacts(struct planner *pl)
{
	const struct sip_msg *msg = pl->msg;
	u16 i;

	for (i = 0; i < msg->n_contacts; i++) {
		const struct sip_contact *ct = &msg->contact[i];

		if (ct->star || ct->nonsip || ct->tls)
			continue;
		if (hp_matches(&ct->hp, pl->from))
			edit_hostport(pl, &ct->hp, SIP_EDIT_CONTACT);
	}
}

static const struct sip_sdp_conn *effective_conn(const struct sip_msg *msg,
						 const struct sip_media *m)
{
	return m->conn.present ? &m->conn : &msg->sdp[m->part].conn;
}

static bool conn_is(const struct sip_sdp_conn *c, const struct sip_addr *a)
{
	return c->present && !c->multicast && sip_addr_eq(&c->ip, a);
}

static void edit_conn(struct planner *pl, const struct sip_sdp_conn *c)
{
	if (!conn_is(c, &pl->x->internal.addr))
		return;
	if (!pl->ext_bare_len) {
		/* an IPv4 "to" already formatted is the same text */
		if (pl->to_host_len && pl->to == &pl->x->external &&
		    pl->to->addr.family == 4) {
			memcpy(pl->ext_bare, pl->to_host, sizeof(pl->ext_bare));
			pl->ext_bare_len = pl->to_host_len;
		} else {
			pl->ext_bare_len = (u8)sip_addr_format(&pl->x->external.addr, false,
							       pl->ext_bare,
							       sizeof(pl->ext_bare));
		}
	}
	if (pl->ext_bare_len)
		add_edit(pl, c->addr.off, c->addr.len, SIP_EDIT_SDP_CONN,
			 pl->ext_bare, pl->ext_bare_len);
}

static u16 map_port(const struct sip_xlat *x, u16 port)
{
	unsigned int i;

	for (i = 0; i < x->n_media_map && x->media_map; i++)
		if (x->media_map[i].old_port == port)
			return x->media_map[i].new_port;
	return 0;
}

/*
 * SDP of the NATed sender: c= equal to the internal address, and the m=
 * ports of media received there (through the media map).  SDP with ICE
 * candidates is left alone: the endpoint traverses the NAT itself.
 */
static void plan_sdp(struct planner *pl)
{
	const struct sip_msg *msg = pl->msg;
	u16 s, i;

	for (s = 0; s < msg->n_sdp; s++) {
		const struct sip_sdp *sdp = &msg->sdp[s];

		if (sdp->has_ice)
			continue;
		edit_conn(pl, &sdp->conn);
		for (i = 0; i < msg->n_media; i++) {
			const struct sip_media *m = &msg->media[i];
			char port[8];
			u16 np;

			if (m->part != s)
				continue;
			edit_conn(pl, &m->conn);
			/* the map holds the ports of media pinholes: UDP media only */
			if (!m->portval || !m->is_udp ||
			    !conn_is(effective_conn(msg, m), &pl->x->internal.addr))
				continue;
			np = map_port(pl->x, m->portval);
			if (np)
				add_edit(pl, m->port.off, m->port.len, SIP_EDIT_SDP_PORT,
					 port, sip_fmt_u32(np, port));
		}
	}
}

static bool addr_usable(const struct sip_addr *a)
{
	static const u8 zero[16];
	size_t n = a->family == 4 ? 4 : 16;

	if (!memcmp(a->ip, zero, n))
		return false;	/* 0.0.0.0 / :: (old-style hold) */
	if (a->family == 4)
		return (a->ip[0] & 0xf0) != 0xe0;	/* not multicast */
	return a->ip[0] != 0xff;
}

static void add_pinhole(struct sip_plan *plan, const struct sip_addr *a, u16 port,
			u8 kind, u8 media)
{
	struct sip_pinhole *ph;

	if (plan->n_pinholes == SIP_MAX_PINHOLES)
		return;
	ph = &plan->pinhole[plan->n_pinholes++];
	memset(ph, 0, sizeof(*ph));
	/* field by field: a whole-struct load right after the parser's narrow stores stalls */
	ph->dst.addr.family = a->family;
	if (a->family == 4)
		memcpy(ph->dst.addr.ip, a->ip, 4);
	else
		memcpy(ph->dst.addr.ip, a->ip, 16);
	ph->dst.port = port;
	ph->kind = kind;
	ph->l4proto = 17;
	ph->media = media;
}

/* RTP and RTCP of each active UDP m= line, where the announcer receives. */
static void plan_pinholes(const struct sip_msg *msg, const struct sip_xlat *x,
			  struct sip_plan *plan)
{
	u16 i;

	for (i = 0; i < msg->n_media; i++) {
		const struct sip_media *m = &msg->media[i];
		const struct sip_sdp_conn *c = effective_conn(msg, m);
		u32 rtcp;

		if (!m->portval || !m->is_udp || !c->present || c->multicast ||
		    c->ip.family != x->internal.addr.family || !addr_usable(&c->ip))
			continue;
		add_pinhole(plan, &c->ip, m->portval, SIP_PINHOLE_RTP, (u8)i);
		if (!m->is_rtp)
			continue;
		rtcp = m->rtcp_port ? m->rtcp_port : (u32)m->portval + 1;
		if (rtcp <= 65535)
			add_pinhole(plan, &c->ip, (u16)rtcp, SIP_PINHOLE_RTCP, (u8)i);
	}
}

static bool xlat_valid(const struct sip_xlat *x)
{
	return x->internal.addr.family && x->internal.addr.family == x->external.addr.family &&
	       x->internal.port && x->external.port;
}

/* Content-Length follows the body; edits inside the body change its length. */
static void plan_content_length(struct planner *pl)
{
	const struct sip_msg *msg = pl->msg;
	struct sip_plan *plan = pl->plan;
	int body_delta = pl->body_delta;
	char digits[12];

	plan->new_content_length = (u32)((int)msg->content_length + body_delta);
	if (body_delta && msg->has_content_length)
		add_edit(pl, msg->content_length_span.off, msg->content_length_span.len,
			 SIP_EDIT_CONTENT_LENGTH, digits,
			 sip_fmt_u32(plan->new_content_length, digits));
}

static void sort_edits(struct sip_plan *plan)
{
	u16 i, j;

	for (i = 1; i < plan->n_edits; i++) {
		struct sip_edit e;

		/* usually planned in order already */
		if (plan->edit[i - 1].off <= plan->edit[i].off)
			continue;
		e = plan->edit[i];

		for (j = i; j > 0 && plan->edit[j - 1].off > e.off; j--)
			plan->edit[j] = plan->edit[j - 1];
		plan->edit[j] = e;
	}
}

void sip_plan(const u8 *buf, const struct sip_msg *msg,
	      const struct sip_xlat *xlat, struct sip_plan *plan)
{
	struct planner pl;

	plan->n_edits = 0;
	plan->n_pinholes = 0;
	plan->delta = 0;
	plan->new_content_length = msg->content_length;
	plan_pinholes(msg, xlat, plan);
	if (xlat->mode != SIP_MODE_REWRITE || !xlat_valid(xlat))
		return;
	pl.b = buf;
	pl.msg = msg;
	pl.x = xlat;
	pl.plan = plan;
	pl.overflow = false;
	pl.unsorted = false;
	pl.body_delta = 0;
	if (xlat->side == SIP_SENDER_NATED) {
		pl.from = &xlat->internal;
		pl.to = &xlat->external;
	} else {
		pl.from = &xlat->external;
		pl.to = &xlat->internal;
	}
	pl.to_host_len = 0;
	pl.to_port_len = 0;
	pl.ext_bare_len = 0;
	plan_via(&pl);
	plan_contacts(&pl);
	if (xlat->side == SIP_SENDER_NATED)
		plan_sdp(&pl);
	plan_content_length(&pl);
	if (pl.unsorted)
		sort_edits(plan);
	/* all or nothing: a result over the size limit is not sent rewritten */
	if ((int)msg->msg_len + plan->delta > SIP_MAX_MSG_LEN || pl.overflow) {
		plan->n_edits = 0;
		plan->delta = 0;
		plan->new_content_length = msg->content_length;
	}
}
