/*
 * vc-error.h -- GError domain of the emulated front end.
 *
 * The codes say whose fault an error is, so that a check can tell a daemon
 * that broke a rule (PROTOCOL, NACK, TIMEOUT, CLOSED) from a harness or
 * environment problem (TRANSPORT, RESOURCE, USAGE).
 */
#ifndef VC_ERROR_H
#define VC_ERROR_H

#include <glib.h>

#define VC_SIM_ERROR (vc_error_quark())

typedef enum VcErrorCode {
    VC_ERROR_TRANSPORT,  /* socket error other than the peer closing: environment */
    VC_ERROR_CLOSED,     /* the daemon closed the connection (or died) */
    VC_ERROR_PROTOCOL,   /* the daemon sent something the spec or QEMU rejects */
    VC_ERROR_NACK,       /* a REPLY_ACK payload was non-zero */
    VC_ERROR_TIMEOUT,    /* the daemon did not answer before the deadline */
    VC_ERROR_RESOURCE,   /* memfd, eventfd, mmap or another local resource failed */
    VC_ERROR_USAGE,      /* the harness asked for something impossible */
    VC_ERROR_UNSUPPORTED,/* the daemon does not offer what the operation needs */
} VcErrorCode;

GQuark vc_error_quark(void);

/**
 * vc_error_is_daemon_fault:
 * Returns: true when @error blames the daemon (CLOSED, PROTOCOL, NACK,
 * TIMEOUT, UNSUPPORTED), false for harness and environment errors.
 */
gboolean vc_error_is_daemon_fault(const GError *error);

/**
 * vc_error_from_errno:
 * @error: (out) (optional): set from @err
 * @err: a negative errno from the wire or connection layer
 * @what: what was being done ("GET_FEATURES reply")
 *
 * Maps -ECONNRESET/-EPIPE/-EPROTO to CLOSED, -ETIMEDOUT to TIMEOUT,
 * -EMSGSIZE to PROTOCOL and the rest to TRANSPORT.
 */
void vc_error_from_errno(GError **error, int err, const char *what);

#endif /* VC_ERROR_H */
