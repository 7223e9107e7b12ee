/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TCP transport: address parsing, listen/accept/connect, and a connection
 * that the stream library reads and writes through.  Every wait looks at
 * the cancel flag it is given, gives up with -ETIMEDOUT after timeout_ms
 * without progress (a dead peer), and a bandwidth cap paces writes.
 */
#ifndef MIGD_TRANSPORT_H
#define MIGD_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/cancel.h"
#include "stream/stream.h"

/* The TCP port of --listen and --peer when none is given. */
#define MIGD_DEFAULT_PORT	"7471"

#define MIGD_ADDR_LEN		96

struct migd_conn {
	int fd;
	bool is_socket;
	int timeout_ms;		/* without progress; <= 0: wait forever */
	uint64_t rate_limit;	/* bytes per second, 0 for none */
	uint64_t rl_start_ns;
	uint64_t rl_bytes;
	uint64_t bytes_out;
	uint64_t bytes_in;
	struct migd_cancel *cancel;	/* may be NULL */
};

/*
 * Splits "HOST", "HOST:PORT", "[V6]:PORT" or, with @port_only_ok, "PORT"
 * and ":PORT".  A bare IPv6 address (two colons or more) has no port.
 */
int migd_parse_hostport(const char *s, bool port_only_ok, char *host,
			size_t hlen, char *port, size_t plen);

/* Listens on [ADDR:]PORT; @bound gets "addr:port" as bound (port 0 works). */
int migd_listen(const char *spec, int *lfd, char *bound, size_t blen);
/* Waits for one connection; @timeout_ms <= 0 waits until cancelled. */
int migd_accept(int lfd, int timeout_ms, struct migd_cancel *cancel, int *fd,
		char *peer, size_t plen);
int migd_connect(const char *spec, int timeout_ms, struct migd_cancel *cancel,
		 int *fd, char *peer, size_t plen);

void migd_conn_init(struct migd_conn *c, int fd, int timeout_ms,
		    uint64_t rate_limit, struct migd_cancel *cancel);
void migd_conn_sink(struct migd_conn *c, struct kvmmig_stream_sink *sink);
void migd_conn_source(struct migd_conn *c, struct kvmmig_stream_source *src);
/*
 * -ECONNRESET if the peer has closed or reset the connection, without
 * waiting; for phases where it sends nothing (our pause).
 */
int migd_conn_check_alive(struct migd_conn *c);
/* Half-closes a socket after the last record (END), see the format. */
int migd_conn_shutdown_write(struct migd_conn *c);
/*
 * Resets the connection: the peer reads an error, never an end of stream
 * (which after END means "go on", see COMMITTED in the format).  Only TCP
 * has resets: on a unix socket the peer would read an end of stream.
 * c->fd stays open on /dev/null so that its owner can close it as usual.
 */
void migd_conn_abort(struct migd_conn *c);

#endif /* MIGD_TRANSPORT_H */
