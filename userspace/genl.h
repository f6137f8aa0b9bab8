/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Talking to the sipalg generic netlink family (libmnl): open, resolve the
 * family, one request with its replies, and errors turned into messages
 * that name the problem and its fix.
 */
#ifndef SIPALG_GENL_H
#define SIPALG_GENL_H

#include <stdbool.h>
#include <stdint.h>

#include <libmnl/libmnl.h>
#include <linux/sipalg_genl.h>

/* Requests are small; a dump's part can be up to 32 KiB. */
#define SGENL_MSG_SIZE	4096
#define SGENL_RECV_SIZE	32768

struct sgenl {
	struct mnl_socket *nl;
	uint16_t family;
	uint32_t seq;
	char extack[256];	/* the kernel's message for the last error */
};

/*
 * Opens the socket and finds the family.  Returns EXIT_OK, or prints why
 * not and returns the exit status (EXIT_NOMODULE, EXIT_FAIL).
 */
int sgenl_open(struct sgenl *g);
void sgenl_close(struct sgenl *g);

/* A request in @buf (SGENL_MSG_SIZE bytes) for @cmd. */
struct nlmsghdr *sgenl_request(struct sgenl *g, void *buf, uint8_t cmd,
			       bool dump);

/*
 * Sends @nlh and calls @cb for each reply until the kernel's ACK or
 * NLMSG_DONE.  Returns 0 or -errno (the kernel's message, if any, in
 * g->extack).
 */
int sgenl_talk(struct sgenl *g, struct nlmsghdr *nlh, mnl_cb_t cb,
	       void *data);

/*
 * Prints the error of a failed request as "sipalgctl: CONTEXT: why" (the
 * kernel's extack message when there is one) and returns the exit status:
 * EXIT_PERM for EPERM, else EXIT_FAIL.
 */
int sgenl_fail(const struct sgenl *g, int err, const char *context);

/* The attributes of a genetlink message, by type (tb has SIPALG_A_MAX + 1). */
void sgenl_parse(const struct nlmsghdr *nlh, const struct nlattr **tb);

/*
 * An interface name to its ifindex; prints "interface 'X' does not exist"
 * and returns 0 if there is none.
 */
unsigned int sgenl_ifindex(const char *name);

#endif
