/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small generic netlink client for the "kvmmig" family (uapi
 * linux/kvmmig.h, Documentation/netlink/specs/kvmmig.yaml), on libmnl.
 *
 * Two sockets: one for requests, whose port id is migd's identity to the
 * module (the session controller: when it closes, the module resumes a
 * paused source and aborts a receiving destination), and one subscribed
 * to the "events" group, so that replies and events never interleave.
 *
 * Every call returns 0 (or a count) or -errno; after a failed request,
 * nl->error holds the kernel's extended-ack message if it sent one.
 */
#ifndef MIGD_NL_H
#define MIGD_NL_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/kvmmig.h>

struct mnl_socket;
struct nlmsghdr;

struct migd_nl {
	struct mnl_socket *cmd;
	struct mnl_socket *ev;		/* NULL without events */
	uint16_t family;
	uint32_t events_group;
	uint32_t portid;
	uint32_t seq;
	bool ev_lost;			/* the event socket overflowed */
	uint8_t *buf;			/* receive buffer */
	char error[256];		/* extack message of the last request */
};

/* A session, from SESSION_GET or an event (the fields it carried). */
struct migd_nl_session {
	uint32_t id;
	char name[KVMMIG_SESSION_NAME_LEN];
	uint32_t state;
	uint32_t old_state;		/* events */
	uint32_t reason;		/* events: KVMMIG_REASON_* */
	uint32_t nr_blobs;
	uint64_t blob_bytes;
	uint32_t owner_pid;		/* 0 if not reported */
	unsigned int nr_regions;
	uint64_t region_ids[KVMMIG_SESSION_MAX_REGIONS];
};

struct migd_nl_region {
	uint64_t id;
	char name[KVMMIG_REGION_NAME_LEN];
	uint64_t size;
	int32_t node;
	uint64_t pages;
	uint32_t owner_pid;
	bool has_dirty;
	bool dirty_enabled;
	uint32_t dirty_mode;
	uint64_t harvests, pages_reported, write_faults;
	uint64_t batch_ns_max, harvest_ns_max;
};

struct migd_nl_blob {
	uint32_t index;
	uint32_t kind;
	uint32_t instance;
	char name[KVMMIG_BLOB_NAME_LEN];
	const void *data;
	uint32_t len;
};

/*
 * Resolves the family and, with @events, joins its "events" group.
 * -ENOENT: no such family (the module is not loaded).
 */
int migd_nl_open(struct migd_nl *nl, bool events);
void migd_nl_close(struct migd_nl *nl);

/* Starts a request in @buf (at least MIGD_NL_MSG_SIZE bytes). */
#define MIGD_NL_MSG_SIZE	(KVMMIG_BLOB_MAX_SIZE + 1024)
struct nlmsghdr *migd_nl_msg(struct migd_nl *nl, void *buf, uint8_t cmd,
			     uint16_t flags);
/*
 * Sends @req and calls @cb (may be NULL) on every reply until the ack or
 * the end of the dump; a non-zero return from @cb stops and is returned
 * after the rest of the reply is drained.
 */
int migd_nl_request(struct migd_nl *nl, struct nlmsghdr *req,
		    int (*cb)(const struct nlmsghdr *nlh, void *data),
		    void *data);

/* The commands of the kvmmig family. */
int migd_nl_session_get(struct migd_nl *nl, const char *name, uint32_t id,
			struct migd_nl_session *s);
int migd_nl_session_dump(struct migd_nl *nl,
			 int (*cb)(const struct migd_nl_session *s, void *data),
			 void *data);
/* PAUSE, RESUME, HANDOVER, RECEIVE, ARRIVE or ABORT on session @id. */
int migd_nl_session_cmd(struct migd_nl *nl, uint8_t cmd, uint32_t id);
int migd_nl_region_dump(struct migd_nl *nl,
			int (*cb)(const struct migd_nl_region *r, void *data),
			void *data);
int migd_nl_blob_dump(struct migd_nl *nl, uint32_t session_id,
		      int (*cb)(const struct migd_nl_blob *b, void *data),
		      void *data);
int migd_nl_blob_add(struct migd_nl *nl, uint32_t session_id,
		     const struct migd_nl_blob *b);

/*
 * Reads the events queued on the event socket, waiting at most
 * @timeout_ms for the first (0: none), and calls @cb on each session
 * event.  Sets nl->ev_lost when the socket overflowed: events were lost,
 * the caller must re-read what it watches.
 */
int migd_nl_events(struct migd_nl *nl, int timeout_ms,
		   int (*cb)(const struct migd_nl_session *ev, void *data),
		   void *data);

/*
 * Waits until session @id is in state @want, accepting only @via
 * meanwhile.  Returns 0; -ETIMEDOUT after @timeout_ms; what @check (may
 * be NULL) returned, such as -ECANCELED; -ENOENT when the session is gone
 * (its VMM closed it); -ESTALE when it went to another state.  @last gets
 * the last state seen.
 */
int migd_nl_wait_state(struct migd_nl *nl, uint32_t id, uint32_t want,
		       uint32_t via, int timeout_ms, int (*check)(void *arg),
		       void *arg, struct migd_nl_session *last);

/* "RUNNING", ... or "state N". */
const char *migd_nl_state_name(uint32_t state);
/* "a request", "VMM gone", ... */
const char *migd_nl_reason_name(uint32_t reason);

#endif /* MIGD_NL_H */
