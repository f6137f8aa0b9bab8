// SPDX-License-Identifier: GPL-2.0
/*
 * sipblast: push copies of one UDP payload through a router as fast as the
 * sender can, and count what arrives on the other side, in batches
 * (sendmmsg/recvmmsg) so that the system calls cost little next to the
 * forwarding path being measured.
 *
 *   sipblast send SRC_IP SRC_PORT DST_IP DST_PORT FILE COUNT
 *       Sends COUNT datagrams, each holding FILE's bytes, from
 *       SRC_IP:SRC_PORT.  Prints "sent N start T0 end T1" (CLOCK_MONOTONIC
 *       seconds: the same clock in every network namespace).
 *   sipblast recv IP PORT COUNT IDLE_MS [READY_FILE]
 *       Counts datagrams until COUNT arrived or, after the first (waited
 *       for up to 60 s), none came for IDLE_MS (creates READY_FILE once
 *       bound).  Prints "received N bytes B first T1 last T2"
 *       (CLOCK_MONOTONIC seconds of the first and the last datagram).
 *
 * The rate through the router is N / (T2 - T0): from the first datagram
 * sent to the last one received.  (The receiver's own first-to-last span
 * would measure how fast it drains its socket buffer.)
 *
 * IPv4 only; exit status 1 on an error.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define BATCH		64
#define MAX_PAYLOAD	65507

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int die(const char *what)
{
	fprintf(stderr, "sipblast: %s: %s\n", what, strerror(errno));
	return 1;
}

static int addr_of(const char *ip, const char *port, struct sockaddr_in *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons(atoi(port));
	if (inet_pton(AF_INET, ip, &sa->sin_addr) != 1) {
		fprintf(stderr, "sipblast: bad IPv4 address %s\n", ip);
		return -1;
	}
	return 0;
}

static int bound_socket(const char *ip, const char *port)
{
	struct sockaddr_in sa;
	int fd, one = 1;

	if (addr_of(ip, port, &sa))
		return -1;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

static int blast(char **argv)
{
	static char payload[MAX_PAYLOAD];
	struct mmsghdr msgs[BATCH];
	struct iovec iov;
	struct sockaddr_in dst;
	long count = atol(argv[5]), sent = 0;
	ssize_t len;
	double t0;
	int fd, file, i, n;

	file = open(argv[4], O_RDONLY);
	if (file < 0)
		return die(argv[4]);
	len = read(file, payload, sizeof(payload));
	close(file);
	if (len <= 0)
		return die("read payload");
	if (addr_of(argv[2], argv[3], &dst))
		return 1;
	fd = bound_socket(argv[0], argv[1]);
	if (fd < 0)
		return die("bind");
	if (connect(fd, (struct sockaddr *)&dst, sizeof(dst)))
		return die("connect");
	iov.iov_base = payload;
	iov.iov_len = len;
	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < BATCH; i++) {
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	t0 = now();
	while (sent < count) {
		n = count - sent < BATCH ? count - sent : BATCH;
		n = sendmmsg(fd, msgs, n, 0);
		if (n < 0) {
			/* A full queue or an ICMP error from an earlier datagram. */
			if (errno == ENOBUFS || errno == EAGAIN ||
			    errno == ECONNREFUSED)
				continue;
			return die("sendmmsg");
		}
		sent += n;
	}
	printf("sent %ld start %.6f end %.6f\n", sent, t0, now());
	return 0;
}

static int count_in(char **argv)
{
	static char bufs[BATCH][2048];
	struct mmsghdr msgs[BATCH];
	struct iovec iovs[BATCH];
	long count = atol(argv[2]), got = 0, bytes = 0;
	int idle_ms = atoi(argv[3]), fd, i, n, rcvbuf = 16 << 20;
	struct timeval tv = { 60, 0 };
	double first = 0, last = 0;

	fd = bound_socket(argv[0], argv[1]);
	if (fd < 0)
		return die("bind");
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (argv[4]) {
		int ready = open(argv[4], O_CREAT | O_WRONLY, 0644);

		if (ready < 0)
			return die(argv[4]);
		close(ready);
	}
	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < BATCH; i++) {
		iovs[i].iov_base = bufs[i];
		iovs[i].iov_len = sizeof(bufs[i]);
		msgs[i].msg_hdr.msg_iov = &iovs[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	while (got < count) {
		n = recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, NULL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == EINTR)
				continue;
			return die("recvmmsg");
		}
		last = now();
		if (!got) {
			first = last;
			tv.tv_sec = idle_ms / 1000;
			tv.tv_usec = (idle_ms % 1000) * 1000;
			setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		}
		got += n;
		for (i = 0; i < n; i++)
			bytes += msgs[i].msg_len;
	}
	printf("received %ld bytes %ld first %.6f last %.6f\n", got, bytes,
	       first, last);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 8 && !strcmp(argv[1], "send"))
		return blast(argv + 2);
	if ((argc == 6 || argc == 7) && !strcmp(argv[1], "recv"))
		return count_in(argv + 2);
	fprintf(stderr,
		"usage: sipblast send SRC_IP SRC_PORT DST_IP DST_PORT FILE COUNT\n"
		"       sipblast recv IP PORT COUNT IDLE_MS [READY_FILE]\n");
	return 2;
}
