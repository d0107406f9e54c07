/*
 * agent_client.h - frametap's end of the connection to the in-process
 * agent (python/frametap/agent.py): over the socket frametap started a
 * program with, or the one a running program listens on
 * (/tmp/frametap-UID/agent-PID.sock), loading the agent first through
 * PEP 768 (sys.remote_exec) on CPython 3.14+. Messages are those of
 * src/probe/wire.h. Never writes anything into the target but the
 * interpreter's own remote-exec request; never waits without a bound.
 */
#ifndef FT_AGENT_CLIENT_H
#define FT_AGENT_CLIENT_H

#include "../probe/wire.h"

#include <sys/types.h>

struct ft_agent {
    int fd;
    unsigned char *buf;
    size_t len, cap, used;    /* used: bytes of the message last returned */
    pid_t pid;
    char version[32], mechanism[32];
};

/* Takes an already connected socket (launch: a socketpair end). */
void ft_agent_adopt(struct ft_agent *a, int fd);
/* Connects to process pid's agent, loading it on 3.14+ when it has none.
 * 0, or -1 with ft_fail set (one line: why, and what to do). */
int ft_agent_attach(struct ft_agent *a, pid_t pid, const char *pkg);
void ft_agent_close(struct ft_agent *a);
int ft_agent_send(struct ft_agent *a, const void *msg, size_t len);
/* The next message within timeout_ms (-1: no bound): 1 (m valid until the
 * next call), 0 timeout, -1 the connection ended or broke. */
int ft_agent_recv(struct ft_agent *a, int timeout_ms, struct ftw_msg *m);
/* Sends msg and waits for its REPLY, giving other messages to other().
 * 1 OK, 0 ERROR (text says why), -1 connection lost or timed out. */
int ft_agent_request(struct ft_agent *a, const void *msg, size_t len,
                     void (*other)(void *, const struct ftw_msg *), void *arg,
                     char *text, size_t cap, unsigned *id);
/* Waits for the agent's HELLO (fills pid, version, mechanism). */
int ft_agent_hello(struct ft_agent *a);

#endif
