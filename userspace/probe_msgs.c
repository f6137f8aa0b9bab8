// SPDX-License-Identifier: GPL-2.0
/* The probe's messages; see probe_msgs.h. */
#include "probe_msgs.h"

#include <stdio.h>
#include <string.h>

static const char *const names[PROBE_N_MSGS] = {
	[PROBE_REGISTER] = "REGISTER",
	[PROBE_INVITE] = "INVITE",
	[PROBE_OPTIONS] = "OPTIONS",
	[PROBE_INVITE_BIG] = "INVITE (over 1500 bytes)",
	[PROBE_COMPACT] = "OPTIONS (compact headers)",
};

const char *probe_msg_name(enum probe_msg m)
{
	return names[m];
}

/* An audio offer as a phone makes it; @big adds video until it is over 1500 bytes. */
static size_t sdp(const struct probe_addrs *a, const char *unique, bool big,
		  char *out, size_t cap)
{
	const char *ip = a->ipv6 ? "IP6" : "IP4";
	char addr[64];
	size_t n;
	int w, i;

	snprintf(addr, sizeof(addr), "%.*s", a->ipv6 ? (int)strlen(a->host) - 2 : (int)strlen(a->host),
		 a->host + a->ipv6);
	w = snprintf(out, cap,
		     "v=0\r\n"
		     "o=probe %.8s 1 IN %s %s\r\n"
		     "s=sipalgctl probe\r\n"
		     "c=IN %s %s\r\n"
		     "t=0 0\r\n"
		     "m=audio 40000 RTP/AVP 0 8 101\r\n"
		     "a=rtpmap:0 PCMU/8000\r\n"
		     "a=rtpmap:8 PCMA/8000\r\n"
		     "a=rtpmap:101 telephone-event/8000\r\n"
		     "a=fmtp:101 0-15\r\n"
		     "a=rtcp:40001 IN %s %s\r\n"
		     "a=sendrecv\r\n",
		     unique, ip, addr, ip, addr, ip, addr);
	if (w < 0 || (size_t)w >= cap)
		return 0;
	n = (size_t)w;
	if (!big)
		return n;
	w = snprintf(out + n, cap - n,
		     "m=video 40002 RTP/AVP 96 97\r\n"
		     "a=rtpmap:96 H264/90000\r\n"
		     "a=fmtp:96 profile-level-id=42e01f;packetization-mode=1;max-br=2000\r\n"
		     "a=rtpmap:97 VP8/90000\r\n");
	for (i = 1; w >= 0 && (size_t)w < cap - n && n + (size_t)w < 1500; i++) {
		n += (size_t)w;
		w = snprintf(out + n, cap - n,
			     "a=extmap:%d urn:ietf:params:rtp-hdrext:sipalgctl-probe-padding-%d\r\n"
			     "a=rtcp-fb:96 nack pli\r\n", i, i);
	}
	if (w < 0 || (size_t)w >= cap - n)
		return 0;
	return n + (size_t)w;
}

size_t probe_msg_build(enum probe_msg m, bool tcp, const struct probe_addrs *a,
		       const char *unique, const char *header, char *out, size_t cap)
{
	const char *tp = tcp ? "TCP" : "UDP", *tparam = tcp ? ";transport=tcp" : "";
	char body[4096];
	size_t blen = 0;
	int n;

	if (m == PROBE_INVITE || m == PROBE_INVITE_BIG) {
		blen = sdp(a, unique, m == PROBE_INVITE_BIG, body, sizeof(body));
		if (!blen)
			return 0;
	}
	switch (m) {
	case PROBE_REGISTER:
		n = snprintf(out, cap,
			     "REGISTER sip:%s SIP/2.0\r\n"
			     "Via: SIP/2.0/%s %s:%u;rport;branch=z9hG4bK%s\r\n"
			     "Max-Forwards: 70\r\n"
			     "From: <sip:probe@%s>;tag=%.8s\r\n"
			     "To: <sip:probe@%s>\r\n"
			     "Call-ID: %s@%s\r\n"
			     "CSeq: 1 REGISTER\r\n"
			     "Contact: <sip:probe@%s:%u%s>;expires=3600\r\n"
			     "Expires: 3600\r\n"
			     "User-Agent: sipalgctl-probe\r\n"
			     "%s"
			     "Content-Length: 0\r\n\r\n",
			     a->server, tp, a->host, a->port, unique, a->host, unique,
			     a->host, unique, a->host, a->host, a->port, tparam, header);
		break;
	case PROBE_INVITE:
	case PROBE_INVITE_BIG:
		n = snprintf(out, cap,
			     "INVITE sip:echo@%s SIP/2.0\r\n"
			     "Via: SIP/2.0/%s %s:%u;rport;branch=z9hG4bK%s\r\n"
			     "Max-Forwards: 70\r\n"
			     "From: <sip:probe@%s>;tag=%.8s\r\n"
			     "To: <sip:echo@%s>\r\n"
			     "Call-ID: %s@%s\r\n"
			     "CSeq: 1 INVITE\r\n"
			     "Contact: <sip:probe@%s:%u%s>\r\n"
			     "Content-Type: application/sdp\r\n"
			     "User-Agent: sipalgctl-probe\r\n"
			     "%s"
			     "Content-Length: %zu\r\n\r\n%s",
			     a->server, tp, a->host, a->port, unique, a->host, unique,
			     a->server, unique, a->host, a->host, a->port, tparam, header,
			     blen, body);
		break;
	case PROBE_OPTIONS:
		n = snprintf(out, cap,
			     "OPTIONS sip:%s SIP/2.0\r\n"
			     "Via: SIP/2.0/%s %s:%u;rport;branch=z9hG4bK%s\r\n"
			     "Max-Forwards: 70\r\n"
			     "From: <sip:probe@%s>;tag=%.8s\r\n"
			     "To: <sip:%s>\r\n"
			     "Call-ID: %s@%s\r\n"
			     "CSeq: 1 OPTIONS\r\n"
			     "Contact: <sip:probe@%s:%u%s>\r\n"
			     "Accept: application/sdp\r\n"
			     "%s"
			     "Content-Length: 0\r\n\r\n",
			     a->server, tp, a->host, a->port, unique, a->host, unique,
			     a->server, unique, a->host, a->host, a->port, tparam, header);
		break;
	case PROBE_COMPACT:
		n = snprintf(out, cap,
			     "OPTIONS sip:%s SIP/2.0\r\n"
			     "v: SIP/2.0/%s %s:%u;rport;branch=z9hG4bK%s\r\n"
			     "Max-Forwards: 70\r\n"
			     "f: <sip:probe@%s>;tag=%.8s\r\n"
			     "t: <sip:%s>\r\n"
			     "i: %s@%s\r\n"
			     "CSeq: 1 OPTIONS\r\n"
			     "m: <sip:probe@%s:%u%s>\r\n"
			     "%s"
			     "l: 0\r\n\r\n",
			     a->server, tp, a->host, a->port, unique, a->host, unique,
			     a->server, unique, a->host, a->host, a->port, tparam, header);
		break;
	default:
		return 0;
	}
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}
