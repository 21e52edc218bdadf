-- The console shows a delivery's outcome live: delivery status changes reach the
-- stream's `delivery` topic, scoped to the delivery's tenant, from a trigger like migration 004's.
CREATE FUNCTION notify_delivery_status() RETURNS trigger AS $$
BEGIN
  IF NEW.status IS DISTINCT FROM OLD.status OR NEW.attempts IS DISTINCT FROM OLD.attempts THEN
    PERFORM pg_notify('switchyard_events', json_build_object(
      'topic', 'delivery', 'tenant', NEW.tenant,
      'data', json_build_object('id', NEW.id, 'subscriberId', NEW.subscriber_id, 'provider', NEW.provider,
                                'eventId', NEW.event_id, 'status', NEW.status, 'attempts', NEW.attempts,
                                'lastStatus', NEW.last_status, 'error', left(NEW.last_error, 500)))::text);
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER deliveries_notify AFTER UPDATE ON deliveries
  FOR EACH ROW EXECUTE FUNCTION notify_delivery_status();
