"""Incidents and alerts across three APIs over one model: the MDE alerts and their incidents.

* :mod:`~mdekit.emulator.incidents.store` - incident records over ``def_alerts`` (no HTTP);
* :mod:`~mdekit.emulator.incidents.vocab` - MDE/XDR vs Graph spellings of the enumerations;
* :mod:`~mdekit.emulator.incidents.views` - the XDR incident, Graph incident, Graph alert and
  Graph evidence shapes of the stored records;
* :mod:`~mdekit.emulator.incidents.xdr_routes` - ``/api/incidents`` (Microsoft Threat Protection);
* :mod:`~mdekit.emulator.incidents.graph_routes` - ``/v1.0/security/incidents`` and ``alerts_v2``;
* :mod:`~mdekit.emulator.incidents.control` - control plane: new incident, move alerts, merge.
"""
