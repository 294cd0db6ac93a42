-- A top level that never ends: the build-time run must stop it.
while true do end
