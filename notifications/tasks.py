from __future__ import annotations

from celery import shared_task

from notifications.actions import SendOutcome, sms_retry_delay, sms_send, sms_sweep_stuck
from notifications.models import SmsMessage


@shared_task(name="notifications.send_sms", bind=True, acks_late=True, max_retries=None)
def send_sms(self, message_id: str) -> str:
    outcome = sms_send(message_id=message_id)
    if outcome is SendOutcome.RETRY:
        # Bounded by SMS_MAX_ATTEMPTS, counted on the row (it survives a lost retry message).
        attempts = (
            SmsMessage.objects.filter(pk=message_id).values_list("attempts", flat=True).first()
        )
        raise self.retry(countdown=sms_retry_delay(attempts or 1))
    return outcome.value


@shared_task(name="notifications.sweep_stuck_sms", acks_late=True)
def sweep_stuck_sms() -> int:
    return len(sms_sweep_stuck())


@shared_task(name="notifications.deliver", bind=True, acks_late=True)
def deliver(self, channel: str) -> int:
    """Send a batch of due deliveries of one channel. Idempotent: it claims rows; a second run
    finds them claimed and sends nothing twice."""
    from notifications.actions.deliveries import deliveries_send, publish_deliver

    result = deliveries_send(channel=channel)
    if result.more:
        publish_deliver(channel)
    if result.retry_in is not None:
        publish_deliver(channel, countdown=result.retry_in)
    return result.sent


@shared_task(name="notifications.sweep_deliveries", acks_late=True)
def sweep_deliveries() -> dict[str, int]:
    from notifications.actions.deliveries import deliveries_sweep

    return deliveries_sweep()


@shared_task(name="notifications.fan_out_broadcast", acks_late=True)
def fan_out_broadcast(broadcast_id: int, lane: int = 0) -> bool:
    """Write the next chunks of a broadcast's lane; publishes itself again until the lane is
    done. Safe to run twice or after a dead worker: chunks commit with the lane's cursor, under
    its row lock."""
    from notifications.actions.broadcasts import broadcast_fan_out

    done = broadcast_fan_out(broadcast_id=broadcast_id, lane=lane)
    if not done:
        fan_out_broadcast.apply_async(args=[broadcast_id, lane])
    return done


@shared_task(name="notifications.start_due_broadcasts", acks_late=True)
def start_due_broadcasts() -> int:
    from notifications.actions.broadcasts import broadcasts_start_due

    return len(broadcasts_start_due())
