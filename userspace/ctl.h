/* SPDX-License-Identifier: GPL-2.0 */
/* The subcommands that talk to the module: netlink (genl.c), conntrack. */
#ifndef SIPALG_CTL_H
#define SIPALG_CTL_H

#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>

int cmd_enable(int argc, char **argv);
int cmd_set(int argc, char **argv);
int cmd_disable(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_flows(int argc, char **argv);

struct sgenl;

/* One interface's sipalg settings. */
struct iface_entry {
	unsigned int ifindex;
	char name[IF_NAMESIZE];
	bool enabled;
	unsigned int mode, malformed;
	bool has_limits;		/* a module that knows the limits */
	unsigned int rate, burst, calls, over_limit;
};

/* The interfaces configured in this namespace (*v malloc'd); 0 or an exit status. */
int ctl_iface_list(struct iface_entry **v, size_t *n);

/*
 * Room for entry @n of a list of @size-byte entries at @v, *@cap
 * allocated: @v itself, or @v grown (doubled, 16 at first) when full.
 * NULL (@v left as it was) when out of memory.
 */
void *ctl_grow(void *v, size_t n, size_t *cap, size_t size);

int ctl_options(int argc, char **argv, void (*usage)(FILE *), bool *json,
		const char *flag, bool *flag_set);
int ctl_open_iface_arg(int argc, char **argv, void (*usage)(FILE *),
		       struct sgenl *g, const char **ifname,
		       unsigned int *ifindex);

#endif
