/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sipalg: what the pieces of the module share.
 */
#ifndef SIPALG_H
#define SIPALG_H

#include <linux/skbuff.h>
#include <linux/types.h>
#include <net/netfilter/nf_conntrack.h>

/* The helper's name: nftables `ct helper` objects and `conntrack -L` use it. */
#define SIPALG_HELPER_NAME	"sipalg"

/* At most this many ports in the ports= module parameter. */
#define SIPALG_MAX_PORTS	8

/*
 * Expectation classes (index into the helper's expect policy).  Each class
 * has its own cap, so a burst of media pinholes never evicts the pinhole of
 * a registered Contact.
 */
enum sipalg_expect_class {
	SIPALG_EXPECT_SIGNALLING = 0,	/* registrar -> registered Contact */
	SIPALG_EXPECT_MEDIA,		/* RTP and RTCP of accepted m= lines */
	SIPALG_EXPECT__COUNT
};

/* The SIP ports from ports=, host byte order, in the order given. */
extern u16 sipalg_ports[SIPALG_MAX_PORTS];
extern unsigned int sipalg_nports;

/* The conntrack helper callback (kmod/sipalg_help.c). */
int sipalg_help(struct sk_buff *skb, unsigned int protoff, struct nf_conn *ct,
		enum ip_conntrack_info ctinfo);

#endif /* SIPALG_H */
