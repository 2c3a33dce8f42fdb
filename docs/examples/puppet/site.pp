# Example node manifest: in-band on HPE servers (the agent runs as root). $facts['ilo'] comes from
# facter/ilo.rb; without it (no iLO, no CHIF driver, or on iLO 7 no vNIC address or application
# account) nothing is declared.
if $facts['ilo'] {
  ilo_setting { 'asset tag':
    path       => '/redfish/v1/Systems/1',
    properties => { 'AssetTag' => "rack-${facts['networking']['hostname']}" },
  }

  if $facts['ilo']['generation'] in ['iLO 5', 'iLO 6'] {
    ilo_setting { 'boot from PXE, persistently':
      path       => '/redfish/v1/Systems/1',
      properties => {
        'Boot.BootSourceOverrideTarget'  => 'Pxe',
        'Boot.BootSourceOverrideEnabled' => 'Continuous',
      },
    }
  }
}
