/*
 * vc-error.c -- the VC_SIM_ERROR domain.
 */
#include <errno.h>

#include "vc-error.h"

G_DEFINE_QUARK(vc-error-quark, vc_error)

gboolean
vc_error_is_daemon_fault(const GError *error)
{
    if (!error || error->domain != VC_SIM_ERROR) {
        return FALSE;
    }
    switch ((VcErrorCode)error->code) {
    case VC_ERROR_CLOSED:
    case VC_ERROR_PROTOCOL:
    case VC_ERROR_NACK:
    case VC_ERROR_TIMEOUT:
    case VC_ERROR_UNSUPPORTED:
        return TRUE;
    default:
        return FALSE;
    }
}

void
vc_error_from_errno(GError **error, int err, const char *what)
{
    switch (err) {
    case -ECONNRESET:
    case -EPIPE:
    case -ENOTCONN:
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_CLOSED, "%s: the daemon closed the connection",
                    what);
        break;
    case -EPROTO:
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_CLOSED,
                    "%s: the daemon closed the connection in the middle of a message", what);
        break;
    case -ETIMEDOUT:
    case -EAGAIN:
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_TIMEOUT, "%s: no answer before the deadline",
                    what);
        break;
    case -ETIME:
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_TIMEOUT,
                    "%s: a message began but its rest never came", what);
        break;
    case -EMSGSIZE:
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_PROTOCOL,
                    "%s: payload larger than %u bytes", what, 4096u);
        break;
    default:
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_TRANSPORT, "%s: %s", what, g_strerror(-err));
        break;
    }
}
