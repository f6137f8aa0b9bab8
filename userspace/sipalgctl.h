/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SIPALG_SIPALGCTL_H
#define SIPALG_SIPALGCTL_H

#ifndef SIPALG_VERSION
#define SIPALG_VERSION "0.1.0"
#endif

/* Exit statuses shared by every subcommand. */
#define EXIT_OK		0
#define EXIT_FAIL	1	/* malformed message / operation failed */
#define EXIT_USAGE	2
#define EXIT_NOMODULE	3	/* the sipalg module is not loaded */
#define EXIT_PERM	4	/* needs CAP_NET_ADMIN */

#endif
