"""GET /api/v1/customers/{customer}/contacts: a customer's contacts on every queue and channel,
newest first (the customer journey). Queue scopes apply: a scoped token sees the contacts of its
queues only."""
from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from pipeline.history import contacts, reports
from supervisor_api.deps import Principal, require
from supervisor_api.errors import warehouse_call
from supervisor_api.schemas import errors, json_response

router = APIRouter(prefix="/api/v1/customers", tags=["contacts"])


@router.get("/{customer}/contacts", summary="A customer's contacts across every channel, newest first",
            responses=errors(400, 401, 403, 429, 503),
            description="`next_cursor` pages on to older contacts (`cursor`). Each contact carries the "
                        "same derived values as GET /api/v1/contacts.")
async def customer_contacts(request: Request, customer: str,
                            limit: int = Query(50, ge=1, le=contacts.MAX_PAGE),
                            cursor: str | None = Query(None),
                            principal: Principal = Depends(require("can_read_reports"))):
    if cursor:
        try:
            contacts.decode_cursor(cursor)
        except reports.ReportError as exc:
            raise HTTPException(400, exc.as_dict())
    allowed = tuple(sorted(principal.queues)) if principal.queues is not None else ()
    if principal.queues is not None and not principal.queues:
        return json_response({"customer": customer, "contacts": [], "next_cursor": None})
    out = await warehouse_call(request, contacts.customer_contacts, customer, allowed_queues=allowed,
                               queue_settings=request.app.state.queue_settings, limit=limit,
                               before=cursor or "", repeat_days=request.app.state.settings.repeat_contact_days)
    return json_response(out)
