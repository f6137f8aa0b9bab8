/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internal interfaces between the kernel-side pieces of sipalg: the helper
 * (sipalg_help.c), NAT mangling (sipalg_nat.c), expectations
 * (sipalg_expect.c), registrations (sipalg_reg.c) and per-netns state and
 * counters (sipalg_net.c).  The pure-C parser/planner lives in core/.
 */
#ifndef SIPALG_ALG_H
#define SIPALG_ALG_H

#include <linux/skbuff.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_conntrack_helper.h>

#include "sip_core.h"
#include "sipalg.h"

/* What an interface (or, for now, the module) asks of the flows it owns. */
enum sipalg_malformed_action {
	SIPALG_MALFORMED_PASS = 0,
	SIPALG_MALFORMED_DROP,
};

struct sipalg_counters;

/*
 * Limits per source address (sipalg_limit.c): messages that ask for
 * pinholes, per second (@rate) with bursts of @burst, and concurrent calls
 * (@calls); 0: no limit (a burst of 0 is one).  At most SIPALG_LIMIT_MAX.
 */
struct sipalg_limits {
	u32 rate;
	u32 burst;
	u32 calls;
};

#define SIPALG_LIMIT_MAX	1000000

/*
 * Resolved once per packet by sipalg_policy_get(); the counter pointers
 * stay valid under the RCU read lock the caller holds (interfaces are
 * freed after a grace period).
 */
struct sipalg_policy {
	enum sip_mode mode;
	enum sipalg_malformed_action malformed;
	struct sipalg_limits lim;
	bool over_limit_drop;		/* else: passes without new pinholes */
	const struct sipalg_counters *ctrs[2];	/* namespace, interface or NULL */
};

/*
 * The helper's private area of a conntrack (nfct_help_data(): 32 bytes at
 * most, zeroed when the helper is attached).  Valid for a conntrack whose
 * helper is sipalg's.
 */
struct sipalg_ct_data {
	unsigned long keep_until;	/* sipalg_reg.c: jiffies; 0: nothing to keep */
	int ifindex;			/* interface that assigned the flow; 0: nftables */
	u8 mode;			/* that interface's policy at the time */
	u8 malformed;
	u16 flushed;			/* SIPALG_CT_FLUSHED: detached by a flush */
	u64 stream[2];			/* sipalg_stream.c: TCP, per direction */
};

#define SIPALG_CT_FLUSHED	0x5f1d

static inline struct sipalg_ct_data *sipalg_ct_data(const struct nf_conn *ct)
{
	NF_CT_HELPER_BUILD_BUG_ON(sizeof(struct sipalg_ct_data));
	return nfct_help_data(ct);
}

/* Counters, per network namespace.  Names in sipalg_net.c, same order. */
enum sipalg_counter {
	SIPALG_CTR_SEEN,		/* SIP messages looked at */
	SIPALG_CTR_PARSED,		/* well-formed */
	SIPALG_CTR_REWRITTEN,		/* at least one edit applied */
	SIPALG_CTR_DROPPED,		/* malformed and dropped */
	SIPALG_CTR_UNCHANGED_NO_NAT,	/* flow not translated */
	SIPALG_CTR_UNCHANGED_PINHOLE_MODE,
	SIPALG_CTR_UNCHANGED_NOTHING,	/* no span carried the flow's address */
	SIPALG_CTR_UNCHANGED_SPANS_SEGMENTS, /* TCP: message not complete */
	SIPALG_CTR_UNCHANGED_MANGLE_FAILED, /* skb could not be grown */
	SIPALG_CTR_EXPECT_CREATED,
	SIPALG_CTR_EXPECT_REMOVED,
	SIPALG_CTR_EXPECT_FAILED,	/* port range exhausted or cap hit */
	SIPALG_CTR_EXPECT_RENEWED,	/* the same pinholes asked for again */
	SIPALG_CTR_REG_TRACKED,		/* 2xx to REGISTER with expiry > 0 */
	SIPALG_CTR_REG_RELEASED,	/* expiry 0 removed a registration's pinhole */
	SIPALG_CTR_EXPECT_REFUSED_DESTINATION, /* c= not the SDP sender's */
	SIPALG_CTR_UNCHANGED_AGGREGATED, /* UDP: several datagrams in one skb */
	SIPALG_CTR_EXPECT_REFUSED_NETNS_CAP, /* max_netns_expectations reached */
	SIPALG_CTR_LIMITED_RATE,	/* a source over its rate */
	SIPALG_CTR_LIMITED_CALLS,	/* a source at its calls cap */
	SIPALG_CTR_LIMIT_UNTRACKED,	/* no source record: table full, memory */
	SIPALG_CTR_MALFORMED,		/* first of SIP_R__COUNT - 1 reasons */
	SIPALG_CTR_MAX = SIPALG_CTR_MALFORMED + SIP_R__COUNT - 1
};

/* sipalg_help.c */
int sipalg_help_init(void);
void sipalg_help_exit(void);

/* sipalg_net.c */
int sipalg_net_register(void);
void sipalg_net_unregister(void);

/* sipalg_policy.c */
/* Under rcu_read_lock(). */
void sipalg_policy_get(const struct nf_conn *ct, struct sipalg_policy *pol);
/* Counted for the namespace and for the interface that assigned the flow. */
void sipalg_policy_count(const struct sipalg_policy *pol,
			 enum sipalg_counter ctr);
void sipalg_policy_count_add(const struct sipalg_policy *pol,
			     enum sipalg_counter ctr, unsigned int n);
void sipalg_policy_count_malformed(const struct sipalg_policy *pol,
				   enum sip_reason reason);

/* sipalg_limit.c */
struct sipalg_limit_src;

int sipalg_limit_register(void);
void sipalg_limit_unregister(void);
bool sipalg_limit_admit(const struct nf_conn *ct,
			const struct sipalg_policy *pol,
			enum ip_conntrack_dir who,
			struct sipalg_limit_src **srcp);
bool sipalg_limit_call_add(struct sipalg_limit_src **srcp,
			   const struct sipalg_policy *pol);
void sipalg_limit_call_end(struct sipalg_limit_src *src);

/* sipalg_nat.c */
int sipalg_nat_init(void);
void sipalg_nat_exit(void);
bool sipalg_xlat_from_ct(const struct nf_conn *ct,
			 enum ip_conntrack_dir dir, struct sip_xlat *xlat);
bool sipalg_apply_edits(struct sk_buff *skb, struct nf_conn *ct,
			enum ip_conntrack_info ctinfo, unsigned int protoff,
			unsigned int msgoff, const struct sip_plan *plan);
bool sipalg_tcp_empty(struct sk_buff *skb, struct nf_conn *ct,
		      enum ip_conntrack_info ctinfo, unsigned int protoff,
		      unsigned int len);
void sipalg_tcp_seqadj(struct sk_buff *skb, struct nf_conn *ct,
		       enum ip_conntrack_info ctinfo, unsigned int protoff,
		       s32 delta);
void sipalg_addr_to_inet(const struct sip_addr *a,
			 union nf_inet_addr *ia);
void sipalg_inet_to_addr(const union nf_inet_addr *ia, u8 family,
			 struct sip_addr *a);

/* sipalg_main.c */
extern struct nf_conntrack_helper sipalg_helpers[2];

/* sipalg_expect.c */
int sipalg_expect_register(void);
void sipalg_expect_unregister(void);	/* after the helpers' */
/* A keyed hash of @msg's Call-ID (@buf: the message): the call's identity. */
u64 sipalg_dialog_id(const u8 *buf, const struct sip_msg *msg);
/* -EDQUOT: a new call refused by its source's calls cap (sipalg_limit.c). */
int sipalg_expect_media(struct nf_conn *ct, const struct sipalg_policy *pol,
		       enum ip_conntrack_dir dir, const struct sip_msg *msg,
		       const struct sip_plan *plan, const struct sip_xlat *xlat,
		       struct sip_port_map *map, u64 callid,
		       struct sipalg_limit_src *src);
/*
 * A call's end: @bye (a BYE) ends any call, a CANCEL or a final error to
 * an INVITE only one not yet confirmed (a failed re-INVITE leaves the
 * session as it was, RFC 3261 14.1: its offer's new pinholes are removed,
 * the previous ones kept).
 */
void sipalg_expect_end_dialog(struct nf_conn *ct,
			      const struct sipalg_policy *pol, u64 callid,
			      bool bye);
/*
 * The 2xx to an INVITE of call @callid: it is confirmed, and the pinholes
 * a re-INVITE's offer replaced are removed.
 */
void sipalg_expect_confirm_dialog(struct nf_conn *ct,
				  const struct sipalg_policy *pol, u64 callid);

/* One call with media pinholes, as `sipalgctl flows` lists it. */
struct sipalg_call {
	u32 flow;		/* nf_ct_get_id() of its flow: ctnetlink's CTA_ID */
	u32 call;		/* a short keyed hash of its Call-ID */
	unsigned int n;
	u32 pinhole[IP_CT_DIR_MAX * SIP_MAX_PINHOLES];	/* SIPALG_CALL_PINHOLE() */
};

/*
 * Calls @fill for each call with media pinholes in @net from where
 * *@bucket and *@skip say, under nf_conntrack_expect_lock (@fill must not
 * sleep); stops when @fill returns non-zero, which it returns, with
 * *@bucket and *@skip where to go on.
 */
int sipalg_expect_calls(const struct net *net, unsigned long *bucket,
			unsigned long *skip,
			int (*fill)(const struct sipalg_call *c, void *arg),
			void *arg);
/* Returns how many were removed. */
unsigned int sipalg_expect_remove(struct nf_conn *ct,
				  const struct sipalg_policy *pol,
				  enum sipalg_expect_class class, int dir);
void sipalg_expect_signalling(struct nf_conn *ct,
			      const struct sipalg_policy *pol,
			      enum ip_conntrack_dir dir,
			      const struct sip_endpoint *contact,
			      const struct sip_xlat *xlat, unsigned int secs);

/* sipalg_stream.c: where SIP messages begin in a TCP segment */
struct sipalg_seg {
	u32 seq;		/* of the payload's first byte */
	unsigned int start;	/* offset of the first message */
	bool unsure;		/* no message may begin there: a continuation */
	bool old;		/* sent before: the position stays as it is */
	bool acked;		/* old, and the receiver has every byte of it */
};

bool sipalg_stream_start(struct nf_conn *ct, enum ip_conntrack_dir dir,
			 u32 seq, unsigned int len, struct sipalg_seg *seg);
bool sipalg_stream_may_resize(struct nf_conn *ct, enum ip_conntrack_dir dir,
			      u32 seq);
void sipalg_stream_at(struct nf_conn *ct, enum ip_conntrack_dir dir,
		      const struct sipalg_seg *seg, u32 next);
void sipalg_stream_lost(struct nf_conn *ct, enum ip_conntrack_dir dir,
			const struct sipalg_seg *seg);

/* sipalg_reg.c */
void sipalg_reg_response(struct sk_buff *skb, struct nf_conn *ct,
			 const struct sipalg_policy *pol,
			 enum ip_conntrack_dir dir, const struct sip_msg *msg,
			 const struct sip_xlat *xlat);
void sipalg_call_answered(struct nf_conn *ct, const struct sk_buff *skb);
void sipalg_reg_keepalive(struct nf_conn *ct, const struct sk_buff *skb);
int sipalg_reg_synced(struct nlattr *attr, struct nf_conn *ct);

#endif /* SIPALG_ALG_H */
