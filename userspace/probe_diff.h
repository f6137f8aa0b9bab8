/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a box on the path did to one probe message: the bytes the probe
 * sent against the bytes the reflector received, header by header and SDP
 * line by SDP line.  The module's own parser (kmod/core) says where the
 * spans an ALG may rewrite are (Via sent-by, Contact host:port, SDP c=
 * address, m= port, and Content-Length when it follows the body); any
 * other change is a harm.
 */
#ifndef SIPALG_PROBE_DIFF_H
#define SIPALG_PROBE_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum change_kind {
	CHANGE_ADDRESS = 0,	/* allowed: an address rewritten */
	CHANGE_PORT,		/* allowed: a port rewritten */
	CHANGE_ADDRESS_PORT,	/* allowed: both */
	CHANGE_LENGTH_FOLLOWS,	/* allowed: Content-Length updated to the body */
	CHANGE_REWRITTEN,	/* harm: changed beyond an address */
	CHANGE_ADDED,		/* harm: a header added */
	CHANGE_REMOVED,		/* harm: a header removed */
	CHANGE_LENGTH_WRONG,	/* harm: Content-Length not the body's length */
	CHANGE_CORRUPTED,	/* harm: no longer parses as SIP */
	CHANGE_DROPPED,		/* harm: never answered */
	CHANGE_REPLY_FORGED,	/* harm: a reply the reflector did not send */
	CHANGE_REPLY_REWRITTEN,	/* harm: the reply was rewritten on its way back */
};

struct change {
	const char *message;	/* "REGISTER", "INVITE (1800 bytes)", ... */
	const char *transport;	/* "UDP" or "TCP" */
	char field[32];		/* "Via", "From", "SDP o=", ... */
	enum change_kind kind;
	bool harmful;
	char *sent, *received;	/* the field's text before and after */
};

struct change_list {
	struct change *v;
	size_t n, cap;
};

void changes_add(struct change_list *l, const char *message, const char *transport,
		 const char *field, enum change_kind kind, const char *sent,
		 size_t sent_len, const char *received, size_t received_len);
void changes_free(struct change_list *l);

/* Appends what differs between the message sent and the one received. */
void diff_message(struct change_list *l, const char *message, bool tcp,
		  const uint8_t *sent, size_t sent_len,
		  const uint8_t *received, size_t received_len);

/* "address-rewritten", ... for JSON */
const char *change_kind_name(enum change_kind kind);

#endif
