# Custom fact `ilo`: what `ilo-agent info` reports about this server's iLO (in-band, as root):
# product, generation ("iLO 6"), firmware, redfishVersion, sessionTimeoutMinutes, transport.
# The session it used is left out (it is deleted before ilo-agent exits). Absent when there is no
# iLO, no CHIF driver or library, or ilo-agent is not installed. In a module: lib/facter/ilo.rb.
require 'json'

Facter.add(:ilo) do
  confine kernel: 'Linux'
  setcode do
    output = Facter::Core::Execution.execute('ilo-agent --output json info', on_fail: nil, timeout: 120)
    if output && !output.empty?
      info = JSON.parse(output)
      info.delete('session')
      info
    end
  end
end
