-- An export that computes forever: fuel is made plentiful, time stops it.
return { spin = function() while true do end end }
