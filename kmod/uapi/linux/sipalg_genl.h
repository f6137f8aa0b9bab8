/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The generic netlink family "sipalg": sipalg.ko's control plane, per
 * network namespace.  Shared by the module and sipalgctl; described in
 * kmod/uapi/sipalg.yaml.
 *
 * Interfaces are named by ifindex.  Requests that change state need
 * CAP_NET_ADMIN in the namespace's user namespace; every refused request
 * carries an extended-ACK message and changes nothing.
 *
 *   IFACE_SET    IFINDEX [ENABLED] [MODE] [MALFORMED] [LIMIT_RATE]
 *                [LIMIT_BURST] [LIMIT_CALLS] [OVER_LIMIT]
 *                configure an interface; attributes left out keep their
 *                value (a new entry: enabled, rewrite, pass, and the
 *                limits of the module parameters, which it follows until
 *                they are set on it)
 *   IFACE_DEL    IFINDEX [FLUSH]
 *                forget an interface (its new flows are left alone); with
 *                FLUSH also detach the helper and remove the pinholes of
 *                the flows it assigned; replies FLUSHED_FLOWS and
 *                FLUSHED_EXPECTATIONS then
 *   IFACE_GET    IFINDEX, or a dump of every configured interface; replies
 *                IFINDEX IFNAME ENABLED MODE MALFORMED LIMIT_RATE
 *                LIMIT_BURST LIMIT_CALLS OVER_LIMIT (the values in force)
 *   STATS_GET    [IFINDEX]: the namespace's counters, or the interface's;
 *                replies [IFINDEX] STATS
 *   STATS_RESET  [IFINDEX]: that interface's counters, or the namespace's
 *                and every interface's
 *   CALLS_GET    a dump of the calls that hold media pinholes in the
 *                namespace, one reply each: CALL_FLOW CALL_HASH
 *                CALL_PINHOLE... (CAP_NET_ADMIN)
 */
#ifndef _UAPI_LINUX_SIPALG_GENL_H
#define _UAPI_LINUX_SIPALG_GENL_H

#define SIPALG_GENL_NAME	"sipalg"
#define SIPALG_GENL_VERSION	1

/* At most this many configured interfaces per network namespace. */
#define SIPALG_MAX_IFACES	256

enum sipalg_cmd {
	SIPALG_CMD_UNSPEC,
	SIPALG_CMD_IFACE_SET,
	SIPALG_CMD_IFACE_DEL,
	SIPALG_CMD_IFACE_GET,
	SIPALG_CMD_STATS_GET,
	SIPALG_CMD_STATS_RESET,
	SIPALG_CMD_CALLS_GET,

	__SIPALG_CMD_MAX,
	SIPALG_CMD_MAX = __SIPALG_CMD_MAX - 1
};

enum sipalg_attr {
	SIPALG_A_UNSPEC,
	SIPALG_A_PAD,
	SIPALG_A_IFINDEX,		/* u32 */
	SIPALG_A_IFNAME,		/* string, replies only */
	SIPALG_A_ENABLED,		/* u8: 0 or 1 */
	SIPALG_A_MODE,			/* u8: enum sipalg_mode */
	SIPALG_A_MALFORMED,		/* u8: enum sipalg_malformed */
	SIPALG_A_FLUSH,			/* flag */
	SIPALG_A_STATS,			/* nest of enum sipalg_stat, u64 each */
	SIPALG_A_FLUSHED_FLOWS,		/* u32, replies only */
	SIPALG_A_FLUSHED_EXPECTATIONS,	/* u32, replies only */
	SIPALG_A_CALL_FLOW,		/* u32, replies only: the signalling
					 * flow's conntrack id (ctnetlink's
					 * CTA_ID, the same bytes) */
	SIPALG_A_CALL_HASH,		/* u32, replies only: a keyed hash of
					 * the Call-ID (never the Call-ID) */
	SIPALG_A_CALL_PINHOLE,		/* u32, replies only, one per pinhole:
					 * SIPALG_CALL_PINHOLE() */
	SIPALG_A_LIMIT_RATE,		/* u32: pinhole-asking messages per
					 * second per source; 0: no limit */
	SIPALG_A_LIMIT_BURST,		/* u32: the rate's burst; 0 is 1 */
	SIPALG_A_LIMIT_CALLS,		/* u32: concurrent calls per source;
					 * 0: no limit */
	SIPALG_A_OVER_LIMIT,		/* u8: enum sipalg_over_limit */

	__SIPALG_A_MAX,
	SIPALG_A_MAX = __SIPALG_A_MAX - 1
};

/*
 * A call's pinhole in SIPALG_A_CALL_PINHOLE: the direction of the flow its
 * SDP came in (0 original, 1 reply), the L4 protocol and the public port.
 */
#define SIPALG_CALL_PINHOLE(side, proto, port) \
	(((side) & 1) << 24 | ((proto) & 0xff) << 16 | ((port) & 0xffff))
#define SIPALG_CALL_PINHOLE_SIDE(v)	(((v) >> 24) & 1)
#define SIPALG_CALL_PINHOLE_PROTO(v)	(((v) >> 16) & 0xff)
#define SIPALG_CALL_PINHOLE_PORT(v)	((v) & 0xffff)

/* What an enabled interface does to the SIP flows it assigns. */
enum sipalg_mode {
	SIPALG_MODE_REWRITE,	/* rewrite Via/Contact/SDP of NATed flows + pinholes */
	SIPALG_MODE_PINHOLE,	/* pinholes only, never change a byte */

	__SIPALG_MODE_MAX,
	SIPALG_MODE_MAX = __SIPALG_MODE_MAX - 1
};

/* What happens to a SIP message that does not parse strictly. */
enum sipalg_malformed {
	SIPALG_MALFORMED_ACTION_PASS,	/* forwarded byte for byte, counted */
	SIPALG_MALFORMED_ACTION_DROP,	/* dropped, counted */

	__SIPALG_MALFORMED_ACTION_MAX,
	SIPALG_MALFORMED_ACTION_MAX = __SIPALG_MALFORMED_ACTION_MAX - 1
};

/*
 * What happens to a message over a source's limit.  On TCP it always
 * passes: dropping a segment would stall the stream.
 */
enum sipalg_over_limit {
	SIPALG_OVER_LIMIT_PASS,		/* forwarded, no new pinholes, counted */
	SIPALG_OVER_LIMIT_DROP,		/* dropped (UDP), counted */

	__SIPALG_OVER_LIMIT_MAX,
	SIPALG_OVER_LIMIT_MAX = __SIPALG_OVER_LIMIT_MAX - 1
};

/* The class of a sipalg pinhole, as conntrack lists it (CTA_EXPECT_CLASS). */
enum sipalg_expect_class_id {
	SIPALG_EXPECT_CLASS_SIGNALLING,	/* registrar -> registered Contact */
	SIPALG_EXPECT_CLASS_MEDIA,	/* RTP/RTCP of an accepted m= line */
};

/*
 * Counters inside SIPALG_A_STATS, each a u64.  The names sipalgctl and
 * /proc/net/sipalg_stats print are in comments; a malformed-<reason>
 * counter exists for every reason sipalgctl(8) lists.
 */
enum sipalg_stat {
	SIPALG_STAT_UNSPEC,
	SIPALG_STAT_PAD,
	SIPALG_STAT_MESSAGES_SEEN,		/* messages-seen */
	SIPALG_STAT_MESSAGES_PARSED,		/* messages-parsed */
	SIPALG_STAT_MESSAGES_REWRITTEN,		/* messages-rewritten */
	SIPALG_STAT_MESSAGES_DROPPED,		/* messages-dropped */
	SIPALG_STAT_UNCHANGED_NOT_TRANSLATED,	/* unchanged-not-translated */
	SIPALG_STAT_UNCHANGED_PINHOLE_MODE,	/* unchanged-pinhole-mode */
	SIPALG_STAT_UNCHANGED_NOTHING_TO_REWRITE, /* unchanged-nothing-to-rewrite */
	SIPALG_STAT_UNCHANGED_SPANS_SEGMENTS,	/* unchanged-spans-segments */
	SIPALG_STAT_UNCHANGED_MANGLE_FAILED,	/* unchanged-mangle-failed */
	SIPALG_STAT_EXPECTATIONS_CREATED,	/* expectations-created */
	SIPALG_STAT_EXPECTATIONS_REMOVED,	/* expectations-removed */
	SIPALG_STAT_EXPECTATIONS_FAILED,	/* expectations-failed */
	SIPALG_STAT_EXPECTATIONS_RENEWED,	/* expectations-renewed */
	SIPALG_STAT_REGISTRATIONS_TRACKED,	/* registrations-tracked */
	SIPALG_STAT_REGISTRATIONS_RELEASED,	/* registrations-released */
	SIPALG_STAT_EXPECTATIONS_REFUSED_DESTINATION, /* expectations-refused-destination */
	SIPALG_STAT_UNCHANGED_AGGREGATED,	/* unchanged-aggregated */
	SIPALG_STAT_EXPECTATIONS_REFUSED_NETNS_CAP, /* expectations-refused-netns-cap */
	SIPALG_STAT_LIMITED_RATE,		/* limited-rate */
	SIPALG_STAT_LIMITED_CALLS,		/* limited-calls */
	SIPALG_STAT_LIMIT_UNTRACKED,		/* limit-untracked */
	SIPALG_STAT_MALFORMED_BAD_START_LINE,	/* malformed-bad-start-line */
	SIPALG_STAT_MALFORMED_BAD_HEADER,
	SIPALG_STAT_MALFORMED_BAD_LINE_END,
	SIPALG_STAT_MALFORMED_BAD_VIA,
	SIPALG_STAT_MALFORMED_BAD_CONTACT,
	SIPALG_STAT_MALFORMED_BAD_CONTENT_LENGTH,
	SIPALG_STAT_MALFORMED_NO_CONTENT_LENGTH,
	SIPALG_STAT_MALFORMED_BODY_TRUNCATED,
	SIPALG_STAT_MALFORMED_BAD_CSEQ,
	SIPALG_STAT_MALFORMED_BAD_CALL_ID,
	SIPALG_STAT_MALFORMED_BAD_EXPIRES,
	SIPALG_STAT_MALFORMED_BAD_CONTENT_TYPE,
	SIPALG_STAT_MALFORMED_BAD_SDP,
	SIPALG_STAT_MALFORMED_TOO_LONG,
	SIPALG_STAT_MALFORMED_TOO_MANY_HEADERS,
	SIPALG_STAT_MALFORMED_TOO_MANY_VALUES,
	SIPALG_STAT_MALFORMED_INCOMPLETE,
	SIPALG_STAT_MALFORMED_MISSING_HEADER,
	SIPALG_STAT_MALFORMED_BAD_MULTIPART,
	SIPALG_STAT_MALFORMED_KEEPALIVE,	/* never counted: not an error */

	__SIPALG_STAT_MAX,
	SIPALG_STAT_MAX = __SIPALG_STAT_MAX - 1
};

#endif /* _UAPI_LINUX_SIPALG_GENL_H */
