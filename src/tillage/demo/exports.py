"""Write the demo company the way a CRM exports it: Salesforce and HubSpot export shapes.

Importing either with ``tillage import`` gives back the company's store on every column the
export shape can carry (``tests/ingest/test_roundtrip.py`` checks it, table by table). The
shapes follow the real exports, not tillage's model:

* **Salesforce** (Setup > Data Export): one CSV per object named after it (``Account.csv`` …),
  standard API field names as headers, every value quoted, 18-character record ids, booleans
  ``true``/``false``, date-times in UTC (``2024-04-01T00:30:00.000Z``), dates ``YYYY-MM-DD``.
  Reps are ``User``, calls and e-mails ``Task``, meetings/visits/QBRs ``Event``, support cases
  ``Case``, order lines ``Order`` + ``OrderItem``, products ``Product2``. Contracts are
  ``Contract`` with the monthly amount in the custom field ``MRR__c``, the product in
  ``Product__c`` and the previous term in ``RenewedFrom__c`` (standard Contract has no amount).
* **HubSpot** (CRM > object > Export, all properties): ``all-companies.csv``,
  ``all-contacts.csv``, ``all-deals.csv``, ``all-activities.csv``, ``all-tickets.csv`` with
  HubSpot's default property labels, numeric record ids, owners by name, associations as
  ``Associated Company IDs``, local date-times ``2024-04-01 10:00``.

The writers return the record id given to every canonical key, so a test can map the demo's
keys onto the imported store's. They live in :mod:`tillage.demo.salesforce_export` and
:mod:`tillage.demo.hubspot_export`; this module gathers them.
"""

from tillage.demo._export_csv import Export, split_name
from tillage.demo.hubspot_export import write_hubspot
from tillage.demo.salesforce_export import salesforce_id, write_salesforce

__all__ = ["Export", "salesforce_id", "split_name", "write_hubspot", "write_salesforce"]
