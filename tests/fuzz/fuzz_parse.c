// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: sip_parse() on arbitrary bytes, as a UDP datagram and
 * as a TCP segment (every message in turn).  Besides ASan/UBSan, checks
 * that everything the parse reports lies inside the message.
 */
#include <stdio.h>
#include <stdlib.h>

#include "sip_core.h"

static struct sip_msg msg;

static void in_msg(const struct sip_span *s, size_t len, const char *what)
{
	if ((size_t)s->off + s->len > len) {
		fprintf(stderr, "%s span %u+%u outside %zu\n", what, s->off, s->len, len);
		abort();
	}
}

static void check_msg(size_t len)
{
	unsigned int i;

	if (msg.msg_len > len || msg.hdr_end > msg.msg_len || !msg.msg_len)
		abort();
	if (msg.n_headers > SIP_MAX_HEADERS || msg.n_vias > SIP_MAX_VIAS ||
	    msg.n_contacts > SIP_MAX_CONTACTS || msg.n_media > SIP_MAX_MEDIA ||
	    msg.n_sdp > SIP_MAX_SDP_PARTS || !msg.n_vias)
		abort();
	in_msg(&msg.body, msg.msg_len, "body");
	in_msg(&msg.call_id, msg.hdr_end, "call-id");
	in_msg(&msg.content_length_span, msg.hdr_end, "content-length");
	for (i = 0; i < msg.n_headers; i++) {
		in_msg(&msg.hdr[i].name, msg.hdr_end, "name");
		in_msg(&msg.hdr[i].value, msg.hdr_end, "value");
	}
	for (i = 0; i < msg.n_vias; i++) {
		in_msg(&msg.via[i].sent_by.host, msg.hdr_end, "via host");
		in_msg(&msg.via[i].sent_by.port, msg.hdr_end, "via port");
		if (!msg.via[i].sent_by.host.len)
			abort();
	}
	for (i = 0; i < msg.n_contacts; i++) {
		in_msg(&msg.contact[i].hp.host, msg.hdr_end, "contact host");
		in_msg(&msg.contact[i].hp.port, msg.hdr_end, "contact port");
	}
	for (i = 0; i < msg.n_sdp; i++) {
		in_msg(&msg.sdp[i].body, msg.msg_len, "sdp");
		in_msg(&msg.sdp[i].conn.addr, msg.msg_len, "sdp c=");
		if (msg.sdp[i].body.off < msg.hdr_end)
			abort();
	}
	for (i = 0; i < msg.n_media; i++) {
		in_msg(&msg.media[i].port, msg.msg_len, "m= port");
		in_msg(&msg.media[i].conn.addr, msg.msg_len, "m c=");
		if (msg.media[i].part >= msg.n_sdp || !msg.media[i].port.len)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	size_t pos = 0;

	if (sip_parse(data, size, 0, &msg) == SIP_OK)
		check_msg(size);
	while (pos < size) {
		enum sip_reason r = sip_parse(data + pos, size - pos, SIP_PARSE_STREAM, &msg);

		if (r == SIP_OK)
			check_msg(size - pos);
		else if (r != SIP_R_KEEPALIVE)
			break;
		if (!msg.msg_len)
			abort();
		pos += msg.msg_len;
	}
	return 0;
}
