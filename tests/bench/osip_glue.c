// SPDX-License-Identifier: GPL-2.0
/*
 * libosip2 in its own file: its headers define SIP_OK and friends as
 * status-code macros, which clash with the core's enum.
 */
#include <stdlib.h>
#include <osipparser2/osip_parser.h>

#include "osip_glue.h"

void osip_glue_init(void)
{
	parser_init();
}

int osip_glue_parse(const char *buf, size_t len)
{
	osip_message_t *sip;
	int r;

	if (osip_message_init(&sip))
		abort();
	r = osip_message_parse(sip, buf, len);
	osip_message_free(sip);
	return r;
}
