"""The application layer: one function per question a user asks.

Each service takes the store's session (or engine), the caller's reach where it matters and typed
parameters, reads the store, calls the stages (features, models, strategy, kpi) and returns typed
results. The surfaces (:mod:`tillage.cli`, :mod:`tillage.api`, :mod:`tillage.web`,
:mod:`tillage.report`) only parse input and render these results, so the CLI, the API and a page
answer the same question with the same figures.

- :mod:`~tillage.services.strategy` — the strategy in force (one resolver), check and save;
- :mod:`~tillage.services.scoring` — the scoring run (read, score, write one snapshot);
- :mod:`~tillage.services.reach` — one ``find_rep``, and the reps a caller may ask about;
- :mod:`~tillage.services.kpis`, :mod:`~tillage.services.reviews` — KPIs, the period review,
  1on1 agendas;
- :mod:`~tillage.services.plans` — the account plans of a month;
- :mod:`~tillage.services.departure` — a rep's departure simulated on the latest snapshot;
- :mod:`~tillage.services.imports` — validate and confirm an uploaded file;
- :mod:`~tillage.services.listing` — the one account listing (filters, sorts, pages);
- :mod:`~tillage.services.account_views`, :mod:`~tillage.services.snapshot_frames`,
  :mod:`~tillage.services.review_frames` — the read models the pages, the CLI tables, the
  workbook and the review are built from (the store itself is organised by entity).
"""
