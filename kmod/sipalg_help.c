// SPDX-License-Identifier: GPL-2.0
/*
 * The conntrack helper: runs the core parser and planner on every SIP
 * message of a flow assigned to sipalg, opens the pinholes the message asks
 * for, and applies the planned edits when the flow is translated.
 *
 * Helpers run from the conntrack confirm hook, after NAT has been decided
 * for the packet, in softirq or (for local traffic) process context.  The
 * parse and plan (several KiB) live in a per-CPU scratch area used with
 * bottom halves disabled, so the packet path neither allocates nor takes a
 * global lock.
 */
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/percpu.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <net/ipv6.h>
#include <net/netfilter/nf_conntrack_helper.h>

#include "sipalg_alg.h"

struct sipalg_scratch {
	struct sip_msg msg;
	struct sip_plan plan;
	struct sip_port_map map[SIP_MAX_MEDIA];
};

static struct sipalg_scratch __percpu *scratch;

int sipalg_help_init(void)
{
	scratch = alloc_percpu(struct sipalg_scratch);
	return scratch ? 0 : -ENOMEM;
}

void sipalg_help_exit(void)
{
	free_percpu(scratch);
}

static void log_malformed(const struct nf_conn *ct, enum ip_conntrack_dir dir,
			  enum sip_reason reason, unsigned int off, bool drop)
{
	const struct nf_conntrack_tuple *t = &ct->tuplehash[dir].tuple;

	if (nf_ct_l3num(ct) == NFPROTO_IPV4)
		net_info_ratelimited("sipalg: %s SIP message from %pI4:%u: %s at byte %u\n",
				     drop ? "dropped" : "passed unchanged a",
				     &t->src.u3.ip, ntohs(t->src.u.all),
				     sip_reason_name(reason), off);
	else
		net_info_ratelimited("sipalg: %s SIP message from [%pI6c]:%u: %s at byte %u\n",
				     drop ? "dropped" : "passed unchanged a",
				     &t->src.u3.in6, ntohs(t->src.u.all),
				     sip_reason_name(reason), off);
}

/*
 * CRLF keep-alives (RFC 5626 3.5.1) and STUN (first byte 0 or 1) share the
 * SIP flow; they are not SIP messages and never malformed ones.
 */
static unsigned int skip_keepalive(const u8 *buf, unsigned int len,
				   unsigned int flags)
{
	unsigned int i = 0;

	while (i < len && (buf[i] == '\r' || buf[i] == '\n'))
		i++;
	if (i < len && buf[i] <= 1)
		return len;
	/*
	 * CRLF before a start line is ignored on a stream only (RFC 3261
	 * 7.5); a datagram is one message, parsed from its first byte as
	 * `sipalgctl rewrite` parses it.
	 */
	if (i < len && !(flags & SIP_PARSE_STREAM))
		return 0;
	return i;
}

static bool is_final_error(const struct sip_msg *msg)
{
	return !msg->is_request && msg->status >= 300 &&
	       msg->cseq_method == SIP_M_INVITE;
}

static bool is_ok(const struct sip_msg *msg, enum sip_method method)
{
	return !msg->is_request && msg->status >= 200 && msg->status < 300 &&
	       msg->cseq_method == method;
}

static bool ends_call(const struct sip_msg *msg)
{
	return (msg->is_request && (msg->method == SIP_M_BYE ||
				    msg->method == SIP_M_CANCEL)) ||
	       is_final_error(msg);
}

/* Where the flow's sender sits, for an untranslated flow: nowhere to go. */
static void xlat_identity(const struct nf_conn *ct, enum ip_conntrack_dir dir,
			  struct sip_xlat *x)
{
	const struct nf_conntrack_tuple *t = &ct->tuplehash[dir].tuple;

	memset(x, 0, sizeof(*x));
	x->side = SIP_SENDER_NATED;
	x->mode = SIP_MODE_PINHOLE;
	sipalg_inet_to_addr(&t->src.u3, nf_ct_l3num(ct), &x->internal.addr);
	x->internal.port = ntohs(t->src.u.all);
	x->external = x->internal;
}

struct sipalg_pkt {
	struct sk_buff *skb;
	unsigned int protoff;
	unsigned int dataoff;		/* L4 payload */
	struct nf_conn *ct;
	enum ip_conntrack_info ctinfo;
	struct sipalg_policy pol;
	struct sipalg_seg seg;		/* TCP: where messages begin */
};

/*
 * A message over a limit: is it dropped?  Never on TCP, where that would
 * stall the stream.
 */
static bool drop_over_limit(const struct sipalg_pkt *p)
{
	return p->pol.over_limit_drop && nf_ct_protonum(p->ct) == IPPROTO_UDP;
}

/*
 * sipalg_limit.c: is side @who (the host the pinholes lead to) within its
 * rate, for the pinholes the message asks for?  When not, *@drop tells
 * whether the message is dropped.
 */
static bool within_rate(const struct sipalg_pkt *p, enum ip_conntrack_dir who,
			struct sipalg_limit_src **src, bool *drop)
{
	if (sipalg_limit_admit(p->ct, &p->pol, who, src))
		return true;
	*drop = drop_over_limit(p);
	return false;
}

/*
 * The media pinholes of an SDP offer or answer of call @callid, for a
 * sender within its rate and, for a new call, its calls cap (checked by
 * sipalg_expect.c, where it makes the call's record).  Returns how many
 * m= ports were remapped (in s->map); *@drop as for within_rate().
 */
static unsigned int media_pinholes(const struct sipalg_pkt *p, u64 callid,
				   struct sipalg_scratch *s,
				   const struct sip_xlat *xlat, bool *drop)
{
	enum ip_conntrack_dir dir = CTINFO2DIR(p->ctinfo);
	struct sipalg_limit_src *src;
	int n;

	if (!within_rate(p, dir, &src, drop))
		return 0;
	n = sipalg_expect_media(p->ct, &p->pol, dir, &s->msg, &s->plan, xlat,
				s->map, callid, src);
	if (n >= 0)
		return n;
	*drop = drop_over_limit(p);	/* over the calls cap */
	return 0;
}

/*
 * One well-formed message at @msgoff in the payload: pinholes,
 * registration, rewrite.  Returns how much the message grew; *@drop: the
 * message is to be dropped, unchanged (over a limit).
 */
static int handle_message(const struct sipalg_pkt *p, unsigned int msgoff,
			  struct sipalg_scratch *s, bool *drop)
{
	enum ip_conntrack_dir dir = CTINFO2DIR(p->ctinfo);
	const u8 *buf = p->skb->data + p->dataoff + msgoff;
	const struct sip_msg *msg = &s->msg;
	struct sipalg_limit_src *src;
	struct sip_xlat x;
	bool ends = ends_call(msg), answered = is_ok(msg, SIP_M_INVITE);
	u64 callid = 0;
	bool nat;

	nat = sipalg_xlat_from_ct(p->ct, dir, &x);
	if (nat)
		x.mode = p->pol.mode;
	else
		xlat_identity(p->ct, dir, &x);
	sip_plan(buf, msg, &x, &s->plan);

	/* Pinholes belong to the call (Call-ID, hashed once), not to the flow. */
	if (ends || answered || s->plan.n_pinholes)
		callid = sipalg_dialog_id(buf, msg);
	if (ends)
		sipalg_expect_end_dialog(p->ct, &p->pol, callid,
					 msg->is_request &&
					 msg->method == SIP_M_BYE);
	else if (s->plan.n_pinholes) {
		x.n_media_map = media_pinholes(p, callid, s, nat ? &x : NULL,
					       drop);
		if (x.n_media_map) {
			x.media_map = s->map;
			sip_plan(buf, msg, &x, &s->plan);
		}
	}
	/* After media_pinholes(): a 2xx that carries the offer makes the record. */
	if (answered) {
		sipalg_expect_confirm_dialog(p->ct, &p->pol, callid);
		sipalg_call_answered(p->ct, p->skb);
	}
	if (is_ok(msg, SIP_M_REGISTER) && within_rate(p, !dir, &src, drop))
		sipalg_reg_response(p->skb, p->ct, &p->pol, dir, msg,
				    nat ? &x : NULL);
	if (*drop)
		return 0;

	if (!s->plan.n_edits) {
		sipalg_policy_count(&p->pol,
				    !nat ? SIPALG_CTR_UNCHANGED_NO_NAT :
				    x.mode == SIP_MODE_PINHOLE ?
				    SIPALG_CTR_UNCHANGED_PINHOLE_MODE :
				    SIPALG_CTR_UNCHANGED_NOTHING);
		return 0;
	}
	if (!sipalg_apply_edits(p->skb, p->ct, p->ctinfo, p->protoff, msgoff,
				&s->plan)) {
		sipalg_policy_count(&p->pol, SIPALG_CTR_UNCHANGED_MANGLE_FAILED);
		return 0;
	}
	sipalg_policy_count(&p->pol, SIPALG_CTR_REWRITTEN);
	return s->plan.delta;
}

static bool is_stream(const struct nf_conn *ct)
{
	return nf_ct_protonum(ct) == IPPROTO_TCP;
}

/*
 * Spans are 16 bits: a (GRO-merged) TCP payload over 64 KiB is parsed in
 * its first 64 KiB; a message crossing that line passes as if it were cut
 * by the segment end.
 */
static size_t parse_len(unsigned int avail)
{
	return min_t(unsigned int, avail, SIP_MAX_MSG_LEN);
}

/* A TCP message cut by the segment end is not malformed: it passes. */
static bool cut_by_segment(const struct nf_conn *ct, enum sip_reason r)
{
	return is_stream(ct) &&
	       (r == SIP_R_INCOMPLETE || r == SIP_R_BODY_TRUNCATED);
}

/*
 * Whether the message parsed at the segment's first message position
 * (@first: the first parse of the segment, after any CR or LF there) is
 * really a message: where that position is unsure (sipalg_stream.c), one
 * that does not begin like a message is the continuation of another.  A
 * continuation may itself begin with CR or LF (a line break cut by the
 * segment end, a folded header line), so the position is not compared
 * with the segment's start.
 */
static bool is_continuation(const struct sipalg_pkt *p, bool first,
			    enum sip_reason r)
{
	return p->seg.unsure && first && r != SIP_OK &&
	       !cut_by_segment(p->ct, r);
}

/*
 * In drop mode a segment is refused before any of it is changed: a TCP
 * rewrite records a sequence adjustment, which a dropped segment must not
 * leave behind.
 */
static enum sip_reason find_malformed(const struct sipalg_pkt *p,
				      struct sipalg_scratch *s,
				      unsigned int *err_off)
{
	const u8 *data = p->skb->data + p->dataoff;
	unsigned int len = p->skb->len - p->dataoff, off = p->seg.start;
	unsigned int flags = is_stream(p->ct) ? SIP_PARSE_STREAM : 0;
	bool first = true;
	enum sip_reason r;

	for (;; first = false) {
		off += skip_keepalive(data + off, len - off, flags);
		if (off >= len)
			return SIP_OK;
		r = sip_parse(data + off, parse_len(len - off), flags, &s->msg);
		if (cut_by_segment(p->ct, r) || is_continuation(p, first, r))
			return SIP_OK;
		if (r != SIP_OK) {
			*err_off = off + s->msg.err_off;
			return r;
		}
		if (!flags)
			return SIP_OK;
		off += s->msg.msg_len;
	}
}

/*
 * TCP: remember where the direction's next message begins, after the
 * messages of this segment from @off on were handled (@r: the last parse;
 * @grown: how much the segment grew before @off).
 */
static void track_stream(const struct sipalg_pkt *p, unsigned int off,
			 unsigned int len, enum sip_reason r, s32 grown,
			 const struct sip_msg *msg)
{
	enum ip_conntrack_dir dir = CTINFO2DIR(p->ctinfo);
	u32 at = p->seg.seq + off - grown;	/* as the sender numbered it */

	if (p->seg.old)
		return;
	if (off >= len)
		sipalg_stream_at(p->ct, dir, &p->seg, at);
	else if (cut_by_segment(p->ct, r) && msg->hdr_end &&
		 msg->has_content_length)
		sipalg_stream_at(p->ct, dir, &p->seg,
				 at + msg->hdr_end + msg->content_length);
	else
		sipalg_stream_lost(p->ct, dir, &p->seg);
}

static int help_payload(const struct sipalg_pkt *p, struct sipalg_scratch *s)
{
	unsigned int len = p->skb->len - p->dataoff, off = p->seg.start;
	unsigned int orig_len = p->skb->len, err_off = 0;
	unsigned int flags = is_stream(p->ct) ? SIP_PARSE_STREAM : 0;
	enum ip_conntrack_dir dir = CTINFO2DIR(p->ctinfo);
	enum sip_reason r = SIP_OK;
	bool first = true, drop = false;

	/*
	 * sipalg_stream.c: sent again, and the receiver has it all.  Only
	 * its acknowledgment may have been lost: it goes on without its
	 * bytes, which the receiver answers with an acknowledgment again.
	 */
	if (p->seg.acked)
		return sipalg_tcp_empty(p->skb, p->ct, p->ctinfo, p->protoff,
					len) ? NF_ACCEPT : NF_DROP;
	if (p->pol.malformed == SIPALG_MALFORMED_DROP) {
		r = find_malformed(p, s, &err_off);
		if (r != SIP_OK) {
			sipalg_policy_count(&p->pol, SIPALG_CTR_SEEN);
			sipalg_policy_count_malformed(&p->pol, r);
			sipalg_policy_count(&p->pol, SIPALG_CTR_DROPPED);
			log_malformed(p->ct, dir, r, err_off, true);
			return NF_DROP;
		}
	}
	for (;; first = false) {
		off += skip_keepalive(p->skb->data + p->dataoff + off,
				      len - off, flags);
		if (off >= len)
			break;
		r = sip_parse(p->skb->data + p->dataoff + off,
			      parse_len(len - off), flags, &s->msg);
		if (is_continuation(p, first, r))
			break;
		sipalg_policy_count(&p->pol, SIPALG_CTR_SEEN);
		if (cut_by_segment(p->ct, r)) {
			sipalg_policy_count(&p->pol,
					    SIPALG_CTR_UNCHANGED_SPANS_SEGMENTS);
			break;
		}
		if (r != SIP_OK) {
			sipalg_policy_count_malformed(&p->pol, r);
			log_malformed(p->ct, dir, r, off + s->msg.err_off,
				      false);
			break;
		}
		sipalg_policy_count(&p->pol, SIPALG_CTR_PARSED);
		/* The message is msg_len long before and msg_len+delta after. */
		off += s->msg.msg_len;
		off += handle_message(p, off - s->msg.msg_len, s, &drop);
		if (drop)
			return NF_DROP;
		len = p->skb->len - p->dataoff;
		if (!flags)
			break;
	}
	if (!flags)
		return NF_ACCEPT;
	/* sipalg_stream.c: one length change unacknowledged at a time. */
	if (p->skb->len != orig_len && !p->seg.old &&
	    !sipalg_stream_may_resize(p->ct, dir, p->seg.seq))
		return NF_DROP;
	track_stream(p, off, len, r, (s32)p->skb->len - (s32)orig_len,
		     &s->msg);
	if (p->skb->len != orig_len && !p->seg.old)
		sipalg_tcp_seqadj(p->skb, p->ct, p->ctinfo, p->protoff,
				  (s32)p->skb->len - (s32)orig_len);
	return NF_ACCEPT;
}

static bool payload_offset(const struct sk_buff *skb, unsigned int protoff,
			   struct sipalg_pkt *p)
{
	struct tcphdr _th;
	const struct tcphdr *th;

	if (!is_stream(p->ct)) {
		p->dataoff = protoff + sizeof(struct udphdr);
		return true;
	}
	/* No payload on the handshake; a SYN with data is not SIP's. */
	if (p->ctinfo != IP_CT_ESTABLISHED &&
	    p->ctinfo != IP_CT_ESTABLISHED_REPLY)
		return false;
	th = skb_header_pointer(skb, protoff, sizeof(_th), &_th);
	if (!th)
		return false;
	p->dataoff = protoff + th->doff * 4;
	return p->dataoff < skb->len &&
	       sipalg_stream_start(p->ct, CTINFO2DIR(p->ctinfo),
				   ntohl(th->seq), skb->len - p->dataoff,
				   &p->seg);
}

/*
 * An ICMP error about the flow (port unreachable, fragmentation needed) is
 * RELATED to the flow's conntrack, and the conntrack core hands it to the
 * helper when it travels in the original direction.  Its payload is the
 * quoted packet, not SIP.  The first packets of a flow opened by one of our
 * expectations are RELATED too, and are SIP: tell them apart by protocol.
 */
static bool is_icmp_error(const struct sk_buff *skb, const struct nf_conn *ct,
			  enum ip_conntrack_info ctinfo)
{
	__be16 frag_off;
	u8 proto;

	if (ctinfo != IP_CT_RELATED && ctinfo != IP_CT_RELATED_REPLY)
		return false;
	if (nf_ct_l3num(ct) == NFPROTO_IPV4)
		return ip_hdr(skb)->protocol != nf_ct_protonum(ct);
	proto = ipv6_hdr(skb)->nexthdr;
	if (ipv6_skip_exthdr(skb, skb_network_offset(skb) +
			     sizeof(struct ipv6hdr), &proto, &frag_off) < 0)
		return true;
	return proto != nf_ct_protonum(ct);
}

/*
 * A UDP skb that holds several datagrams (UDP GSO from a local sender or a
 * veth peer, or GRO forwarding) is cut back into datagrams of gso_size
 * bytes on its way out: a rewrite that changed one datagram's length would
 * shift every later one.  It passes unchanged, counted.  (TCP aggregates
 * are one byte stream and are handled as such.)
 */
static bool is_udp_aggregate(const struct sk_buff *skb,
			     const struct nf_conn *ct)
{
	return !is_stream(ct) && skb_is_gso(skb);
}

int sipalg_help(struct sk_buff *skb, unsigned int protoff, struct nf_conn *ct,
		enum ip_conntrack_info ctinfo)
{
	struct sipalg_pkt p = {
		.skb = skb, .protoff = protoff, .ct = ct, .ctinfo = ctinfo,
	};
	int verdict = NF_ACCEPT;
	bool aggregate;

	if (is_icmp_error(skb, ct, ctinfo))
		return NF_ACCEPT;
	aggregate = is_udp_aggregate(skb, ct);
	if (!aggregate && !(payload_offset(skb, protoff, &p) &&
			    p.dataoff < skb->len && !skb_linearize(skb)))
		goto keepalive;
	/*
	 * The policy is resolved once, here, and handed down to everything
	 * the packet does.  The hook holds the RCU read lock already; the
	 * policy's pointers need it.
	 */
	rcu_read_lock();
	sipalg_policy_get(ct, &p.pol);
	if (aggregate) {
		sipalg_policy_count(&p.pol, SIPALG_CTR_UNCHANGED_AGGREGATED);
		rcu_read_unlock();
		return NF_ACCEPT;
	}
	local_bh_disable();
	verdict = help_payload(&p, this_cpu_ptr(scratch));
	local_bh_enable();
	rcu_read_unlock();
keepalive:
	if (verdict == NF_ACCEPT)
		sipalg_reg_keepalive(ct, skb);
	return verdict;
}
