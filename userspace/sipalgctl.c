// SPDX-License-Identifier: GPL-2.0
/*
 * sipalgctl: control and inspect the sipalg SIP ALG.
 *
 * Subcommands live in a table: the offline ones (parse, rewrite) run the
 * module's core in userspace; the netlink ones (enable, disable, show,
 * stats, flows) are added to the same table by their own file.
 */
#include <stdio.h>
#include <string.h>
#include <getopt.h>

#include "ctl.h"
#include "offline.h"
#include "probe.h"
#include "sipalgctl.h"

struct subcommand {
	const char *name;
	int (*run)(int argc, char **argv);	/* argv[0] is the subcommand */
	const char *summary;
};

static const struct subcommand subcommands[] = {
	{ "enable", cmd_enable, "handle SIP flows through an interface (mode, malformed action)" },
	{ "disable", cmd_disable, "stop handling new flows through an interface (--flush: and its flows)" },
	{ "show", cmd_show, "show the interfaces sipalg is configured on" },
	{ "stats", cmd_stats, "print (or --reset) the counters of the namespace or an interface" },
	{ "flows", cmd_flows, "list the connections sipalg handles and their pinholes" },
	{ "parse", cmd_parse, "parse a SIP message as the module does and show what it found" },
	{ "rewrite", cmd_rewrite, "print the bytes the module would send for a message" },
	{ "probe", cmd_probe, "is an ALG on the path to a reflector breaking SIP? (no module needed)" },
	{ "reflect", cmd_reflect, "answer probes, on a public host (no module needed)" },
};

#define N_SUBCOMMANDS (sizeof(subcommands) / sizeof(subcommands[0]))

static void usage(FILE *f)
{
	size_t i;

	fputs("Usage: sipalgctl [--version] [--help] COMMAND [ARGS]\n\nCommands:\n", f);
	for (i = 0; i < N_SUBCOMMANDS; i++)
		fprintf(f, "  %-10s %s\n", subcommands[i].name, subcommands[i].summary);
	fputs("\nsipalgctl COMMAND --help shows a command's options; see sipalgctl(8).\n", f);
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("sipalgctl %s\n", SIPALG_VERSION);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	for (i = 0; i < N_SUBCOMMANDS; i++) {
		if (!strcmp(argv[1], subcommands[i].name)) {
			optind = 1;
			return subcommands[i].run(argc - 1, argv + 1);
		}
	}
	fprintf(stderr, "sipalgctl: unknown command \"%s\"\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
