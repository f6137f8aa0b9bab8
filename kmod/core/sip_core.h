/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sipalg core: a strict SIP (RFC 3261) + SDP (RFC 8866) parser and a rewrite
 * planner.  Pure C, no allocation, no recursion, no global state: the same
 * files are compiled into sipalg.ko and into userspace (sipalgctl, unit
 * tests, fuzzers, benchmarks).
 *
 * Flow of use (kernel and userspace alike):
 *   1. sip_parse()  - one message from a buffer -> struct sip_msg (spans)
 *   2. sip_plan()   - parse + translation -> edits, new Content-Length,
 *                     pinholes wanted
 *   3. apply        - the kernel replaces the span the edits cover with
 *                     sip_apply_splice()'s result in one NAT mangle;
 *                     userspace uses sip_apply()
 *
 * All spans are (offset, length) relative to the start of the message
 * passed to sip_parse().
 */
#ifndef SIPALG_SIP_CORE_H
#define SIPALG_SIP_CORE_H

#include "sip_types.h"

/*
 * Limits.  A message exceeding one is malformed with the matching reason
 * and passes unchanged.  Generous for real traffic: the RFC 4475 torture
 * set's longreq has 34 Via values and 46 header fields; Max-Forwards 70
 * bounds a real Via list at 71.
 */
#define SIP_MAX_MSG_LEN		65535	/* bytes of one message (spans are u16) */
#define SIP_MAX_LINE_LEN	8192	/* bytes of one header field (folds included) or start line */
#define SIP_MAX_HEADERS		96	/* header fields in one message */
#define SIP_MAX_VIAS		72	/* Via values (all Via lines together) */
#define SIP_MAX_CONTACTS	16	/* Contact values */
#define SIP_MAX_MEDIA		16	/* SDP m= lines (all SDP parts together) */
#define SIP_MAX_SDP_PARTS	4	/* application/sdp parts of a multipart */
/* top Via host + port, Contact host + port each, c= and m= port per media, session c=, CL */
#define SIP_MAX_EDITS		(2 + 2 * SIP_MAX_CONTACTS + 2 * SIP_MAX_MEDIA + \
				 SIP_MAX_SDP_PARTS + 1)
#define SIP_MAX_PINHOLES	(2 * SIP_MAX_MEDIA)
#define SIP_MAX_REPL_LEN	48	/* "[ffff:...:ffff]:65535" fits */

/* A span into the message. len == 0 with off == 0 means "absent". */
struct sip_span {
	u16 off;
	u16 len;
};

/*
 * Why a message was refused.  Stable: the names (sip_reason_name()) are
 * printed by sipalgctl, counted by the module and documented in the man
 * page.  Append only.
 */
enum sip_reason {
	SIP_OK = 0,
	SIP_R_BAD_START_LINE,	/* "bad-start-line" */
	SIP_R_BAD_HEADER,	/* "bad-header": no colon, bad name, bad folding, NUL, control byte, duplicated From/To */
	SIP_R_BAD_LINE_END,	/* "bad-line-end": bare LF or CR */
	SIP_R_BAD_VIA,		/* "bad-via" */
	SIP_R_BAD_CONTACT,	/* "bad-contact" */
	SIP_R_BAD_CONTENT_LENGTH, /* "bad-content-length": not digits, duplicated, too big */
	SIP_R_NO_CONTENT_LENGTH, /* "no-content-length": stream transport without it */
	SIP_R_BODY_TRUNCATED,	/* "body-truncated": Content-Length > bytes present */
	SIP_R_BAD_CSEQ,		/* "bad-cseq" */
	SIP_R_BAD_CALL_ID,	/* "bad-call-id": missing, empty, duplicated or not a callid */
	SIP_R_BAD_EXPIRES,	/* "bad-expires" */
	SIP_R_BAD_CONTENT_TYPE,	/* "bad-content-type" */
	SIP_R_BAD_SDP,		/* "bad-sdp" */
	SIP_R_TOO_LONG,		/* "too-long": message or line over its limit */
	SIP_R_TOO_MANY_HEADERS,	/* "too-many-headers" */
	SIP_R_TOO_MANY_VALUES,	/* "too-many-values": Vias, Contacts, m= lines */
	SIP_R_INCOMPLETE,	/* "incomplete": header section not terminated by an empty line */
	SIP_R_MISSING_HEADER,	/* "missing-header": no Via, From, To or CSeq */
	SIP_R_BAD_MULTIPART,	/* "bad-multipart": multipart body without valid boundary/delimiters */
	SIP_R_KEEPALIVE,	/* "keepalive": only CRLFs (RFC 5626 keepalive), not a message; msg_len covers them */
	SIP_R__COUNT
};

const char *sip_reason_name(enum sip_reason reason);

/* Header names the core knows (compact forms map to the same id). */
enum sip_hdr_id {
	SIP_HDR_OTHER = 0,
	SIP_HDR_VIA,		/* v */
	SIP_HDR_CONTACT,	/* m */
	SIP_HDR_CONTENT_LENGTH,	/* l */
	SIP_HDR_CONTENT_TYPE,	/* c */
	SIP_HDR_CALL_ID,	/* i */
	SIP_HDR_CSEQ,
	SIP_HDR_EXPIRES,
	SIP_HDR_FROM,		/* f */
	SIP_HDR_TO,		/* t */
	SIP_HDR__COUNT
};

/* SIP methods the ALG acts on; anything else is SIP_M_OTHER. */
enum sip_method {
	SIP_M_OTHER = 0,
	SIP_M_INVITE,
	SIP_M_ACK,
	SIP_M_BYE,
	SIP_M_CANCEL,
	SIP_M_REGISTER,
	SIP_M_OPTIONS,
	SIP_M_UPDATE,
	SIP_M_PRACK,
	SIP_M_SUBSCRIBE,
	SIP_M_NOTIFY,
	SIP_M_MESSAGE,
	SIP_M_INFO,
	SIP_M_REFER,
	SIP_M_PUBLISH,
};

/* An IPv4 or IPv6 address in network byte order. */
struct sip_addr {
	u8 family;		/* 0 none, 4 or 6 */
	u8 ip[16];		/* IPv4 in ip[0..3] */
};

/* What a host span holds. */
enum sip_host_kind {
	SIP_HOST_NAME = 0,	/* hostname: never rewritten */
	SIP_HOST_IPV4,
	SIP_HOST_IPV6,		/* "[...]" reference; span includes brackets */
};

struct sip_hostport {
	struct sip_span host;
	struct sip_span port;	/* digits only; len 0 if absent */
	u16 portval;		/* 0 if absent */
	u8 host_kind;		/* enum sip_host_kind */
	struct sip_addr addr;	/* parsed when host_kind is IPv4/IPv6 */
};

enum sip_transport {
	SIP_TP_OTHER = 0,
	SIP_TP_UDP,
	SIP_TP_TCP,
	SIP_TP_TLS,
	SIP_TP_SCTP,
	SIP_TP_WS,
	SIP_TP_WSS,
};

struct sip_via {
	struct sip_hostport sent_by;
	struct sip_span value;	/* the whole via-parm */
	u8 transport;		/* enum sip_transport */
	u8 has_rport:1, has_received:1, has_branch:1;
};

struct sip_contact {
	struct sip_span value;	/* the whole contact-param */
	struct sip_span uri;	/* the URI (without <>) */
	struct sip_hostport hp;	/* host:port of the URI */
	u32 expires;		/* ;expires= value */
	u8 star:1, sips:1, has_expires:1;
	u8 nonsip:1;		/* URI scheme is not sip:/sips: (tel:, urn: ...): hp absent */
	u8 tls:1;		/* sips: or ;transport=tls|wss in the URI: never rewritten */
};

struct sip_header {
	struct sip_span name;
	struct sip_span value;	/* may contain folding (CRLF + WSP) */
	u8 id;			/* enum sip_hdr_id */
};

enum sip_sdp_dir {
	SIP_SDP_SENDRECV = 0,	/* default when no attribute */
	SIP_SDP_SENDONLY,
	SIP_SDP_RECVONLY,
	SIP_SDP_INACTIVE,
};

struct sip_sdp_conn {
	struct sip_span addr;	/* the connection-address (without /ttl) */
	struct sip_addr ip;	/* parsed when an IP literal (family 0 for FQDN / other nettype) */
	u8 present:1;
	u8 multicast:1;		/* had /ttl or /n: never rewritten, no pinholes */
};

struct sip_media {
	struct sip_span media;	/* "audio", "video", ... */
	struct sip_span port;	/* digits of <port> */
	u16 portval;		/* 0 = disabled stream */
	u16 nports;		/* "/<n>", 1 if absent */
	struct sip_span proto;	/* "RTP/AVP", ... */
	struct sip_sdp_conn conn; /* media-level c= (first one) */
	u16 rtcp_port;		/* a=rtcp:<port>, 0 if absent */
	u8 dir;			/* enum sip_sdp_dir (media or session level) */
	u8 part;		/* index into sip_msg.sdp[] */
	u8 is_udp:1;		/* proto is UDP based (RTP/AVP, udp, ...) */
	u8 is_rtp:1;		/* proto is RTP (an RTCP pinhole goes with it) */
};

struct sip_sdp {
	struct sip_span body;	/* this SDP (the whole body or one part) */
	struct sip_sdp_conn conn; /* session-level c= */
	struct sip_span origin;	/* o= value (reported, never rewritten) */
	u8 has_ice:1;		/* a=candidate anywhere: never rewritten */
};

struct sip_msg {
	u16 msg_len;		/* bytes of this message (headers + body) */
	u16 hdr_end;		/* offset just past the blank line */
	u8 is_request:1, has_content_length:1;

	/* request */
	u8 method;		/* enum sip_method (requests) */
	struct sip_span method_span;
	struct sip_span ruri;
	/* response */
	u16 status;

	u8 cseq_method;		/* enum sip_method */
	u32 cseq;
	struct sip_span call_id;
	struct sip_span content_type;	/* media type, without parameters */
	u32 content_length;
	struct sip_span content_length_span;	/* the digits */
	u32 expires;		/* Expires header */
	u8 has_expires:1;

	struct sip_span body;
	struct sip_span reason;	/* reason phrase (responses) */

	/* set when the verdict is not SIP_OK */
	u16 err_off;

	u16 n_headers, n_vias, n_contacts, n_media, n_sdp;
	/* arrays last: sip_parse() only initialises the entries it fills */
	struct sip_header hdr[SIP_MAX_HEADERS];
	struct sip_via via[SIP_MAX_VIAS];	/* in message order; [0] is top */
	struct sip_contact contact[SIP_MAX_CONTACTS];
	struct sip_sdp sdp[SIP_MAX_SDP_PARTS];
	struct sip_media media[SIP_MAX_MEDIA];
};

/* sip_parse() flags */
#define SIP_PARSE_STREAM	0x1	/* TCP: Content-Length required; more may follow */

/*
 * Parse the message at buf[0 .. len).  Returns SIP_OK and fills *msg, or a
 * reason (msg->err_off says where).  With SIP_PARSE_STREAM, len may hold more
 * than one message: msg->msg_len tells where the next one starts; a message
 * that is not complete in buf gives SIP_R_INCOMPLETE or
 * SIP_R_BODY_TRUNCATED.  Over UDP, bytes after Content-Length are not part of
 * the message (msg_len stops before them) and are left as they are; without
 * Content-Length the body is the rest of the datagram.  CRLFs at buf[0]
 * (RFC 5626 keepalives) give SIP_R_KEEPALIVE with msg_len covering them:
 * over TCP the caller skips them and parses on; a UDP datagram of only
 * CRLFs is a keepalive.  Neither is malformed.
 * Linear in len; never reads outside buf; uses ~1 KiB of stack at most.
 */
enum sip_reason sip_parse(const u8 *buf, size_t len, unsigned int flags,
			  struct sip_msg *msg);

/* An address and port; port 0 means "any" where a lookup allows it. */
struct sip_endpoint {
	struct sip_addr addr;
	u16 port;
};

/*
 * Which party was translated.  SENDER: the message comes from the NATed
 * side (phone -> Internet, or a port-forwarded PBX answering); its own
 * addresses (top Via of requests, Contacts, SDP c= and m=) are rewritten
 * from internal to external.  RECEIVER: the message goes to the NATed side;
 * the top Via of a response and Contacts that carry the external address
 * are restored to internal.  SDP is only rewritten for SENDER.
 */
enum sip_side {
	SIP_SENDER_NATED = 0,
	SIP_RECEIVER_NATED,
};

enum sip_mode {
	SIP_MODE_REWRITE = 0,
	SIP_MODE_PINHOLE,	/* pinholes only, never an edit */
};

/* The m= port old -> new (the public port the media pinhole got). */
struct sip_port_map {
	u16 old_port;
	u16 new_port;
};

struct sip_xlat {
	enum sip_side side;
	enum sip_mode mode;
	struct sip_endpoint internal;	/* e.g. 192.168.1.2:5060 */
	struct sip_endpoint external;	/* e.g. 203.0.113.1:5060 */
	const struct sip_port_map *media_map;	/* may be NULL */
	unsigned int n_media_map;
};

enum sip_edit_kind {
	SIP_EDIT_VIA = 0,
	SIP_EDIT_CONTACT,
	SIP_EDIT_SDP_CONN,
	SIP_EDIT_SDP_PORT,
	SIP_EDIT_CONTENT_LENGTH,
};

/* Replace msg[off .. off+len) by repl[0 .. repl_len). */
struct sip_edit {
	u16 off;
	u16 len;
	u8 kind;		/* enum sip_edit_kind */
	u8 repl_len;
	char repl[SIP_MAX_REPL_LEN];
};

enum sip_pinhole_kind {
	SIP_PINHOLE_RTP = 0,
	SIP_PINHOLE_RTCP,
};

/* Media the message announces; the kernel turns each into an expectation. */
struct sip_pinhole {
	struct sip_endpoint dst;	/* where the announcing side receives */
	u8 kind;		/* enum sip_pinhole_kind */
	u8 l4proto;		/* 17 (UDP) or 6 (TCP) */
	u8 media;		/* index into sip_msg.media[] */
};

struct sip_plan {
	u16 n_edits;
	u16 n_pinholes;
	int delta;		/* total change in message length */
	u32 new_content_length;	/* == content_length when unchanged */
	struct sip_edit edit[SIP_MAX_EDITS];	/* sorted by off, disjoint */
	struct sip_pinhole pinhole[SIP_MAX_PINHOLES];
};

/*
 * Plan the rewrite of a parsed message.  Never fails: a message with nothing
 * to rewrite gets n_edits == 0.  Edits are only inside the allowed spans
 * (docs/design.md section 3) and the Content-Length value; every written
 * port is in 1..65535.  Pinholes are listed in both modes.
 */
void sip_plan(const u8 *buf, const struct sip_msg *msg,
	      const struct sip_xlat *xlat, struct sip_plan *plan);

/*
 * Apply a plan to a copy: out receives msg_len + plan->delta bytes.
 * Returns the number of bytes written, or 0 if out_cap is too small.
 */
size_t sip_apply(const u8 *buf, const struct sip_msg *msg,
		 const struct sip_plan *plan, u8 *out, size_t out_cap);

/* The original bytes [off, off + len) of a message, rewritten as out_len. */
struct sip_splice {
	size_t off;
	size_t len;
	size_t out_len;
};

/*
 * Apply a plan's edits to the part of the message they cover, from the
 * first edit's start to the last one's end, writing it to out: one
 * replacement for the whole plan (the module's single NAT mangle).  False
 * if the plan has no edit, is not sorted and disjoint within msg_len
 * bytes, or the result does not fit out_cap.
 */
bool sip_apply_splice(const u8 *buf, size_t msg_len, const struct sip_plan *plan,
		      u8 *out, size_t out_cap, struct sip_splice *sp);

/* Address helpers shared by planner, CLI and module. */
/* Parses a bare IPv4 or IPv6 address (no brackets); 0 on success, -1 if not one. */
int sip_addr_parse(const char *s, size_t len, struct sip_addr *addr);
/* RFC 5952 text (IPv4-mapped as ::ffff:a.b.c.d); returns length, 0 if cap is too small. */
size_t sip_addr_format(const struct sip_addr *addr, bool brackets,
		       char *out, size_t cap);
bool sip_addr_equal(const struct sip_addr *a, const struct sip_addr *b);

/*
 * docs/design.md section 3, invariants 1-5, checked on one planned rewrite:
 * in/msg the original (msg from sip_parse() with flags), out/out_len the
 * result of sip_apply() with plan (out == in, n_edits == 0 allowed),
 * scratch any sip_msg the re-parse may use.  Returns 0, or the number
 * (1..5) of the first invariant violated.  Used by the unit tests and
 * fuzzers; cheap enough for a debug build of the module.
 */
int sip_check_invariants(const u8 *in, const struct sip_msg *msg,
			 unsigned int flags, const struct sip_xlat *xlat,
			 const struct sip_plan *plan, const u8 *out,
			 size_t out_len, struct sip_msg *scratch);

#endif /* SIPALG_SIP_CORE_H */
