"""The platform's model of itself: the domain registry (``domains/<name>/domain.yml`` and
``domains/platform.yml``) and the domain folders. The bundle, governance and local runs all read it;
it imports only ``contracts/``."""
