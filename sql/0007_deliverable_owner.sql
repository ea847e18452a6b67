-- A deliverable belongs to its registration's campaign and KOL: its `campaign_id` and `kol_id` copy
-- the registration's, and this constraint keeps them equal. Reads and transitions of a deliverable
-- then decide who may see it from the deliverable row and its campaign, without reading the
-- registration as well (one statement less on every deliverable request).
ALTER TABLE registrations ADD CONSTRAINT registrations_id_campaign_kol UNIQUE (id, campaign_id, kol_id);
ALTER TABLE deliverables ADD CONSTRAINT deliverables_registration_owner
    FOREIGN KEY (registration_id, campaign_id, kol_id) REFERENCES registrations (id, campaign_id, kol_id);
