/* SPDX-License-Identifier: GPL-2.0 */
/*
 * State shared by the parsing files of the core while one message is
 * parsed.  Lives on the caller's stack for one sip_parse() call (small).
 */
#ifndef SIPALG_SIP_INTERNAL_H
#define SIPALG_SIP_INTERNAL_H

#include "sip_lex.h"

/* What the Content-Type says the body is. */
enum sip_body_kind {
	SIP_BODY_OTHER = 0,
	SIP_BODY_SDP,
	SIP_BODY_MULTIPART,	/* mixed, alternative or related */
};

/* Headers that may occur once (bits of sip_pstate.seen). */
#define SEEN_CL		0x01
#define SEEN_CT		0x02
#define SEEN_CALLID	0x04
#define SEEN_CSEQ	0x08
#define SEEN_EXPIRES	0x10
#define SEEN_FROM	0x20
#define SEEN_TO		0x40

struct sip_pstate {
	const u8 *b;
	struct sip_msg *msg;
	u32 err;		/* offset of the first violation */
	u8 seen;
	u8 body_kind;		/* enum sip_body_kind */
	struct sip_span cseq_method;
	struct sip_span boundary;	/* multipart boundary (without quotes) */
};

/* Sets the error position; returns the reason so callers can "return fail(...)". */
static inline enum sip_reason fail(struct sip_pstate *ps, enum sip_reason r, u32 off)
{
	ps->err = off;
	return r;
}

enum sip_method sip_method_id(const u8 *s, u32 len);

/* Header value parsers: value is [off, end) with folds inside. */
enum sip_reason sip_parse_via(struct sip_pstate *ps, u32 off, u32 end);
enum sip_reason sip_parse_contact(struct sip_pstate *ps, u32 off, u32 end);
enum sip_reason sip_parse_cseq(struct sip_pstate *ps, u32 off, u32 end);
enum sip_reason sip_parse_call_id(struct sip_pstate *ps, u32 off, u32 end);
enum sip_reason sip_parse_expires(struct sip_pstate *ps, u32 off, u32 end);
enum sip_reason sip_parse_content_length(struct sip_pstate *ps, u32 off, u32 end);
enum sip_reason sip_parse_content_type(struct sip_pstate *ps, u32 off, u32 end);

/* Body: SDP (whole body) or the SDP parts of a multipart body. */
enum sip_reason sip_parse_body(struct sip_pstate *ps);

#endif /* SIPALG_SIP_INTERNAL_H */
