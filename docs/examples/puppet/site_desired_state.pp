# Example node manifest: the iLO's whole desired state from one apply file, in-band (the agent runs
# as root). The JSON is what `ilo-agent capture` writes (here inline; in a module, a file of the
# module: content => file('ilo/desired.json')). A BIOS change is staged for the next reboot; the
# reboot resource (puppetlabs-reboot) then restarts the node at the end of the Puppet run.
if $facts['ilo'] {
  ilo_desired_state { '/etc/ilo-agent/desired.json':
    content      => @(JSON),
      {
        "resources": [
          { "path": "/redfish/v1/Systems/1", "properties": { "AssetTag": "rack-42" } },
          { "path": "/redfish/v1/Systems/1/Bios",
            "properties": { "Attributes": { "WorkloadProfile": "Virtualization-MaxPerformance" } } }
        ]
      }
      | JSON
    reset_notify => Reboot['after iLO settings'],
  }

  reboot { 'after iLO settings':
    apply => finished, # after the rest of this run
  }
}
