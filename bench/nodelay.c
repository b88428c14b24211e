// LD_PRELOAD shim for the bench's ngIRCd: sets TCP_NODELAY on every accepted socket.
// Stock ngIRCd leaves Nagle's algorithm on, so with several clients every bot (even the null bot)
// shows ~43 ms replies from delayed ACKs. Built by bench/run: gcc -shared -fPIC -o nodelay.so nodelay.c -ldl
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

static void nodelay(int fd) {
    if (fd >= 0) {
        int on = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);  // fails harmlessly on non-TCP sockets
    }
}

int accept(int fd, struct sockaddr *addr, socklen_t *len) {
    static int (*real)(int, struct sockaddr *, socklen_t *);
    if (!real) real = (int (*)(int, struct sockaddr *, socklen_t *))dlsym(RTLD_NEXT, "accept");
    int client = real(fd, addr, len);
    nodelay(client);
    return client;
}

int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags) {
    static int (*real)(int, struct sockaddr *, socklen_t *, int);
    if (!real) real = (int (*)(int, struct sockaddr *, socklen_t *, int))dlsym(RTLD_NEXT, "accept4");
    int client = real(fd, addr, len, flags);
    nodelay(client);
    return client;
}
