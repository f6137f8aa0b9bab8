// SPDX-License-Identifier: GPL-2.0
/*
 * The conntrack helper callback.  For now it lets every packet pass
 * untouched; the ALG proper (parse, plan, mangle, expectations) replaces
 * this file.
 */
#include <linux/netfilter.h>

#include "sipalg.h"

int sipalg_help(struct sk_buff *skb, unsigned int protoff, struct nf_conn *ct,
		enum ip_conntrack_info ctinfo)
{
	return NF_ACCEPT;
}
