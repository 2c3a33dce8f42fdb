# recipes/desired_state.rb: this server's iLO brought to one apply file, in-band (chef-client runs
# as root). files/desired.json of the cookbook is what `ilo-agent capture` wrote on a server that
# is right. A BIOS change is staged for the next boot; the reboot resource then restarts the node
# at the end of the run, only when ilo-agent says a reboot (or an iLO reset) is due.

directory '/etc/ilo-agent' do
  mode '0700'
end

cookbook_file '/etc/ilo-agent/desired.json' do
  source 'desired.json'
  mode '0600' # a configuration says much about a server
end

ilo_desired_state 'iLO baseline' do
  apply_file '/etc/ilo-agent/desired.json'
  reset_notifies [:request_reboot, 'reboot[after iLO settings]']
end

reboot 'after iLO settings' do
  action :nothing
  reason 'iLO settings staged for the next boot (ilo-agent apply)'
end
